package dev.curvlab.curvature.kfac;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Autodiff;
import dev.curvlab.core.JvpResult;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.kernels.MatMulKernel;
import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.core.kernels.TanhKernel;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One forward pass of a dense chain over a chunk of S inputs, keeping what the per-sample Kronecker
 * factors need, and the backward propagation of blocks of output-space columns.
 * <ul>
 * <li>{@code inputs[k]: [S, in_k + 1]}: the augmented input {@code u_k = [a_k, 1]} of layer k;</li>
 * <li>{@code slopes[k], curvatures[k]: [S, out_k]}: {@code s_k'(z_k)} and (when asked) {@code s_k''(z_k)};</li>
 * <li>{@code output: [S, out]}: the network output {@code f = s_L(z_L)}.</li>
 * </ul>
 * {@link #toPreActivations} and {@link #down} move a column block {@code [S, C, width]} of vectors
 * r to {@code (d f / d z_k)^T r} per sample: {@code b_L = r . s_L'}, {@code b_k = (b_{k+1} W_{k+1}^T) . s_k'},
 * each step one GEMM over all S*C columns.
 */
final class ChainPass {
    final INDArray[] inputs;
    final INDArray[] slopes;
    final INDArray[] curvatures;
    final INDArray output;
    private final INDArray[] weights;

    private ChainPass(INDArray[] inputs, INDArray[] slopes, INDArray[] curvatures, INDArray output, INDArray[] weights) {
        this.inputs = inputs;
        this.slopes = slopes;
        this.curvatures = curvatures;
        this.output = output;
        this.weights = weights;
    }

    static ChainPass forward(Sequential model, INDArray theta, INDArray x, boolean secondDerivatives) {
        List<Dense> ls = model.layers();
        int layers = ls.size();
        long s = x.size(0);
        INDArray[] u = new INDArray[layers];
        INDArray[] d1 = new INDArray[layers];
        INDArray[] d2 = new INDArray[layers];
        INDArray[] w = weights(model, theta);
        INDArray a = x.castTo(DataType.DOUBLE);
        for (int k = 0; k < layers; k++) {
            Dense d = ls.get(k);
            long[] range = model.parameterRange(k);   // W [in, out] then b [out]
            INDArray bias = theta.get(NDArrayIndex.interval(range[1] - d.out(), range[1])).reshape('c', new long[] {d.out()});
            u[k] = Nd4j.hstack(a, Nd4j.ones(DataType.DOUBLE, s, 1));
            INDArray z = MatMulKernel.gemm(a, w[k], false, false).addiRowVector(bias);
            d2[k] = secondDerivatives ? d.activation().secondDerivative(z) : null;     // before z may be overwritten
            INDArray[] valueAndSlope = valueAndSlope(d.activation(), z);
            d1[k] = valueAndSlope[1];
            INDArray next = valueAndSlope[0];
            if (k > 0) {
                Buffers.free(a);
            }
            if (next != z) {
                Buffers.free(z);
            }
            a = next;
        }
        return new ChainPass(u, d1, d2, a, w);
    }

    /**
     * {@code {s(z), s'(z)}} (tanh: by {@link TanhKernel}, z overwritten by the value) from one forward-mode pass of the activation along the all-ones direction
     * (the activation is evaluated once, not once for the value and again for the slope).
     */
    private static INDArray[] valueAndSlope(Activation activation, INDArray z) {
        if (activation == Activation.IDENTITY) {
            return new INDArray[] {z, Nd4j.onesLike(z)};
        }
        if (activation == Activation.TANH && RawAccess.isWholeDouble(z)) {
            return TanhKernel.valueAndSlope(z);
        }
        try (ArrayScope scope = ArrayScope.open()) {
            JvpResult r = Autodiff.jvp(activation::apply, Tensor.of(z), Tensor.of(Nd4j.onesLike(z)));
            INDArray value = r.value().array();
            INDArray slope = r.tangent().array();
            scope.keep(value);
            scope.keep(slope);
            return new INDArray[] {value, slope};
        }
    }

    /** Each layer's W {@code [in, out]} (C order) from the flat parameters. */
    static INDArray[] weights(Sequential model, INDArray theta) {
        List<Dense> ls = model.layers();
        INDArray[] w = new INDArray[ls.size()];
        for (int k = 0; k < w.length; k++) {
            long start = model.parameterRange(k)[0];   // W [in, out] first
            long size = (long) ls.get(k).in() * ls.get(k).out();
            w[k] = theta.get(NDArrayIndex.interval(start, start + size)).reshape('c', new long[] {ls.get(k).in(), ls.get(k).out()})
                    .dup('c');
        }
        return w;
    }

    /** Frees this pass's arrays (the chunk is done). */
    void free() {
        Buffers.free(inputs);
        Buffers.free(slopes);
        Buffers.free(curvatures);
        Buffers.free(output);
    }

    int layers() {
        return inputs.length;
    }

    long samples() {
        return output.size(0);
    }

    /** Columns in the output space {@code [S, C, out]} to the last layer's pre-activations: {@code r . s_L'}. */
    INDArray toPreActivations(INDArray outputColumns) {
        int last = layers() - 1;
        return outputColumns.mul(slopes[last].reshape(samples(), 1, slopes[last].size(1)));
    }

    /** Columns at {@code z_k [S, C, out_k]} to {@code a_k}, the input of layer k: {@code b W_k^T}, {@code [S, C, in_k]}. */
    INDArray toInputs(int k, INDArray columns) {
        long s = columns.size(0);
        long c = columns.size(1);
        long width = columns.size(2);
        return MatMulKernel.gemm(columns.reshape('c', new long[] {s * c, width}), weights[k], false, true)
                .reshape('c', new long[] {s, c, weights[k].size(0)});
    }

    /** Columns at {@code z_k} to {@code z_{k-1}}: {@code (b W_k^T) . s_{k-1}'}. */
    INDArray down(int k, INDArray columns) {
        return SlopeScaling.scale(toInputs(k, columns), slopes[k - 1]);
    }

    /** {@link #down} into the workspace's buffer of layer k-1 (valid until that buffer is written again). */
    INDArray down(int k, INDArray columns, Workspace ws) {
        long s = columns.size(0);
        long c = columns.size(1);
        long in = weights[k].size(0);
        INDArray v = ws.columns(k - 1, s, c, in);
        Nd4j.gemm(columns.reshape('c', new long[] {s * c, columns.size(2)}), weights[k], v.reshape('c', new long[] {s * c, in}), false, true,
                1.0, 0.0);
        return SlopeScaling.scale(v, slopes[k - 1]);
    }

    /** {@link #toPreActivations} into the workspace's buffer of the last layer. */
    INDArray toPreActivations(INDArray outputColumns, Workspace ws) {
        int last = layers() - 1;
        INDArray v = ws.columns(last, outputColumns.size(0), outputColumns.size(1), outputColumns.size(2)).assign(outputColumns);
        return SlopeScaling.scale(v, slopes[last]);
    }
}
