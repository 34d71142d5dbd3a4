package dev.curvlab.curvature.kfac;

import dev.curvlab.nn.model.Sequential;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Jacobian of a dense chain's outputs with respect to each layer's parameters, per input, in
 * Kronecker-factored form: for input s and output o, {@code d f_o / d W~_l[i, p] = u_l[s, i] b_l[s, o, p]}
 * with {@code u_l = [a_l, 1]} the augmented input and {@code b_l[s, o, :] = (d f_o / d z_l)}; the
 * Jacobian row is {@code u_l (x) b_l[s, o]} in the layer's parameter order. One forward pass and one
 * backward pass of the identity columns (out columns per input).
 */
public final class LayerJacobians {
    private final ChainPass pass;
    private final INDArray[] outputGradients;

    private LayerJacobians(ChainPass pass, INDArray[] outputGradients) {
        this.pass = pass;
        this.outputGradients = outputGradients;
    }

    /** For layers {@code first..L-1} at inputs {@code x: [S, in]}. */
    public static LayerJacobians of(Sequential model, INDArray theta, INDArray x, int first) {
        ChainPass pass = ChainPass.forward(model, theta, x, false);
        long s = x.size(0);
        long out = model.outputSize();
        INDArray eye = Nd4j.eye(out).castTo(DataType.DOUBLE).reshape(1, out, out);
        INDArray cols = Nd4j.zeros(DataType.DOUBLE, s, out, out).addi(eye);
        int layers = pass.layers();
        INDArray[] b = new INDArray[layers];
        b[layers - 1] = pass.toPreActivations(cols);
        for (int l = layers - 1; l > first; l--) {
            b[l - 1] = pass.down(l, b[l]);
        }
        return new LayerJacobians(pass, b);
    }

    /** Frees the per-input arrays (the chunk is done). */
    public void free() {
        pass.free();
        Buffers.free(outputGradients);
    }

    /** The network outputs {@code [S, out]}. */
    public INDArray outputs() {
        return pass.output;
    }

    /** {@code u_l: [S, in_l + 1]}. */
    public INDArray inputs(int l) {
        return pass.inputs[l];
    }

    /** {@code b_l: [S, out, out_l]}, {@code b_l[s, o, :] = d f_o / d z_l}. */
    public INDArray outputGradients(int l) {
        return outputGradients[l];
    }

    /** The dense Jacobian block of layer l, {@code [S, out, (in_l + 1) out_l]} (small problems and tests). */
    public INDArray dense(int l) {
        INDArray u = pass.inputs[l];
        INDArray b = outputGradients[l];
        long s = u.size(0);
        long a = u.size(1);
        long out = b.size(1);
        long w = b.size(2);
        return u.reshape(s, 1, a, 1).mul(b.reshape(s, out, 1, w)).reshape('c', new long[] {s, out, a * w});
    }
}
