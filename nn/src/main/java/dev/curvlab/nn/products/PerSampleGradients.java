package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-sample gradients of a dense chain from a batch pass that has run forward and backward: for
 * sample b, layer l's block of {@code g_b} is {@code a_l[:, b] dz_l[:, b]^T} ({@code [in+1, out]},
 * weights and bias), and {@code |g_b|^2 = sum_l |a_l[:, b]|^2 |dz_l[:, b]|^2} without forming it.
 * The batch pass's {@code a} and {@code dz} are feature-major ({@code [w, B]}) and read once.
 */
final class PerSampleGradients {
    private PerSampleGradients() {
    }

    /** {@code [B, N]}: row b is the gradient of sample b's loss (times the pass's factor); one bulk write per row. */
    static INDArray rows(BatchPass pass) {
        LayerShapes shapes = pass.shapes;
        int n = shapes.parameters();
        int batch = pass.batch;
        double[][] a = new double[shapes.layers()][];
        double[][] dz = new double[shapes.layers()][];
        for (int l = 0; l < shapes.layers(); l++) {
            a[l] = pass.a[l].copy();
            dz[l] = pass.dz[l].copy();
        }
        INDArray g = Nd4j.create(DataType.DOUBLE, new long[] {batch, n}, 'c');
        double[] row = new double[n];
        for (int b = 0; b < batch; b++) {
            for (int l = 0; l < shapes.layers(); l++) {
                int out = shapes.out(l);
                for (int i = 0; i <= shapes.in(l); i++) {
                    double ai = a[l][i * batch + b];
                    int at = shapes.offset(l) + i * out;
                    for (int o = 0; o < out; o++) {
                        row[at + o] = ai * dz[l][o * batch + b];
                    }
                }
            }
            RawAccess.write(g, (long) b * n, row, 0, n);
        }
        return g;
    }

    /** {@code [B]}: the Euclidean norm of each sample's gradient. */
    static INDArray norms(BatchPass pass) {
        int batch = pass.batch;
        double[] norms = new double[batch];
        for (int l = 0; l < pass.shapes.layers(); l++) {
            double[] sa = columnSquares(pass.a[l].copy(), batch);
            double[] sd = columnSquares(pass.dz[l].copy(), batch);
            for (int b = 0; b < batch; b++) {
                norms[b] += sa[b] * sd[b];
            }
        }
        for (int b = 0; b < norms.length; b++) {
            norms[b] = Math.sqrt(norms[b]);
        }
        return Nd4j.create(norms, new long[] {norms.length}, DataType.DOUBLE);
    }

    /** Per column of a feature-major {@code [w, batch]} block, the sum of its squares. */
    private static double[] columnSquares(double[] block, int batch) {
        double[] sums = new double[batch];
        for (int at = 0; at < block.length; at += batch) {
            for (int b = 0; b < batch; b++) {
                sums[b] += block[at + b] * block[at + b];
            }
        }
        return sums;
    }
}
