package dev.curvlab.nn.products;

import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import java.util.List;

/** The sizes of a dense chain: per layer inputs, outputs, activation and the offset of its {@code [W; b]} block in theta. */
final class LayerShapes {
    private final int[] in;
    private final int[] out;
    private final int[] offset;
    private final Activation[] activation;
    private final int parameters;
    private final int targetWidth;

    LayerShapes(Sequential model, Loss loss) {
        List<Dense> ls = model.layers();
        int layers = ls.size();
        in = new int[layers];
        out = new int[layers];
        offset = new int[layers];
        activation = new Activation[layers];
        long at = 0;
        for (int l = 0; l < layers; l++) {
            Dense d = ls.get(l);
            in[l] = d.in();
            out[l] = d.out();
            activation[l] = d.activation();
            offset[l] = Math.toIntExact(at);
            at += d.parameterCount();
        }
        parameters = Math.toIntExact(at);
        long width = model.outputSize();
        targetWidth = Math.toIntExact(loss.outputsFor(1) == 2 ? width / 2 : width);
    }

    int layers() {
        return in.length;
    }

    int in(int l) {
        return in[l];
    }

    int out(int l) {
        return out[l];
    }

    int offset(int l) {
        return offset[l];
    }

    Activation activation(int l) {
        return activation[l];
    }

    /** N. */
    int parameters() {
        return parameters;
    }

    /** Columns of the prepared targets (outputs, or half of them for the Gaussian loss). */
    int targetWidth() {
        return targetWidth;
    }

    /** Sum over layers of {@code out_l} (and of {@code in_l}): the per-sample width of the activation buffers. */
    /** The chain's widths {@code [in_0, out_0, ..., out_{L-1}]}. */
    long[] widths() {
        long[] w = new long[in.length + 1];
        w[0] = in[0];
        for (int l = 0; l < out.length; l++) {
            w[l + 1] = out[l];
        }
        return w;
    }

    /** {@link #widths()} of a dense chain without building its shapes. */
    static long[] widths(Sequential model) {
        List<Dense> ls = model.layers();
        long[] w = new long[ls.size() + 1];
        w[0] = ls.get(0).in();
        for (int l = 0; l < ls.size(); l++) {
            w[l + 1] = ls.get(l).out();
        }
        return w;
    }
}
