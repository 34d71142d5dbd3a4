package dev.curvlab.nn.products;

import dev.curvlab.nn.model.Conv2d;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Flatten;
import dev.curvlab.nn.model.Layer;
import dev.curvlab.nn.model.Pool2d;
import dev.curvlab.nn.model.Sequential;
import java.util.List;

/**
 * A {@link Sequential} model with image input (conv2d, max/avg pooling, flatten, dense) as a chain
 * of array kernels ({@link ChainModule}), in the parameter layout of the model (per conv2d layer
 * {@code W [F, C, kh, kw]} row-major then {@code b}; per dense layer {@code W [in, out]} then
 * {@code b}). Each {@link ChainState} owns one chain: max pooling's argmax and the loaded weights
 * belong to one batch.
 */
final class ModuleChain {
    final ChainModule[] modules;
    final int parameters;
    /** The input as positions x channels: {@code (H W, C)} for images. */
    final int inPositions;
    final int inChannels;

    ModuleChain(Sequential model) {
        List<Layer> layers = model.modules();
        modules = new ChainModule[layers.size()];
        long[] shape = model.inputShape();
        long[] offsets = model.layerOffsets();
        for (int l = 0; l < layers.size(); l++) {
            modules[l] = module(layers.get(l), shape, Math.toIntExact(offsets[l]));
            shape = model.outputShape(l);
        }
        parameters = Math.toIntExact(model.parameterCount());
        long[] in = model.inputShape();
        inChannels = Math.toIntExact(in[0]);
        inPositions = in.length == 3 ? Math.toIntExact(in[1] * in[2]) : 1;
    }

    private static ChainModule module(Layer layer, long[] in, int offset) {
        if (layer instanceof Conv2d c) {
            return AffineModule.conv(offset, (int) in[0], (int) in[1], (int) in[2], c.filters(), c.kernel(), c.stride(), c.padding(),
                    c.activation());
        }
        if (layer instanceof Pool2d p) {
            int[] k = p.kernel();
            int[] s = p.stride();
            return new PoolModule(p.mode() == Pool2d.Mode.MAX, (int) in[0], (int) in[1], (int) in[2], k[0], k[1], s[0], s[1]);
        }
        if (layer instanceof Flatten) {
            return in.length == 3 ? new FlattenModule((int) (in[1] * in[2]), (int) in[0]) : new FlattenModule(1, (int) in[0]);
        }
        Dense d = (Dense) layer;
        return AffineModule.dense(offset, d.in(), d.out(), d.activation());
    }

    /** Why the chain engine does not take this model, or null when it does (image input, sizes within int range). */
    static String unsupportedReason(Sequential model) {
        if (!model.hasImageInput()) {
            return "the module-chain engine takes image models; model " + model.describe() + " has vector input";
        }
        long widest = model.inputSize();
        for (long w : model.activationSizes()) {
            widest = Math.max(widest, w);
        }
        for (Layer l : model.modules()) {
            if (l instanceof Conv2d c) {
                widest = Math.max(widest, (long) c.inChannels() * c.kernel()[0] * c.kernel()[1] * widest);
            }
        }
        if (widest > (1 << 24) || model.parameterCount() > (1 << 26)) {
            return "the module-chain engine handles per-sample widths up to 2^24 and up to 2^26 parameters";
        }
        return null;
    }

    int outWidth() {
        return modules[modules.length - 1].outWidth();
    }

    /** The widest per-sample array of one direction: any activation or im2col patches. */
    int maxWidth() {
        int w = inPositions * inChannels;
        for (ChainModule m : modules) {
            w = Math.max(w, Math.max(m.outWidth(), m.scratchWidth()));
        }
        return w;
    }

    /**
     * Doubles per sample of a {@link ChainState}: activations and their cotangents
     * ({@code 2 (in + sum out)}), and per affine module its patches, {@code s', s'', dz} and four
     * native activation buffers ({@code P patch + 7 out}).
     */
    long stateDoublesPerSample() {
        long s = 2L * inPositions * inChannels;
        for (ChainModule m : modules) {
            s += 2L * m.outWidth();
            if (m instanceof AffineModule am) {
                s += (long) am.positions * am.patch + 7L * am.outWidth();
            }
        }
        return s;
    }

    /** Sum over modules of the per-sample widths one direction holds in a direction pass (tangents, cotangents, patches). */
    long directionWidthSum() {
        long s = inPositions * (long) inChannels;
        for (ChainModule m : modules) {
            s += 4L * m.outWidth() + m.inWidth() + m.scratchWidth();
        }
        return s;
    }
}
