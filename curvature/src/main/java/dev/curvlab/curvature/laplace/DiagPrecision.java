package dev.curvlab.curvature.laplace;

import dev.curvlab.curvature.kfac.LayerJacobians;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A diagonal posterior precision {@code P = c diag(C) + D}: log det {@code sum log(c d + delta)},
 * solves elementwise; the functional covariance uses that layer l's Jacobian rows are
 * {@code u (x) b_o}, so {@code J P^-1 J^T [o, o'] = sum_p b_o[p] b_o'[p] sum_i u_i^2 / P_l[i, p]}.
 */
final class DiagPrecision extends PosteriorPrecision {
    private final INDArray diagonal;
    private final long[] widths;

    /** @param widths the covered layers' output widths (to view each block as {@code [in+1, out]}) */
    DiagPrecision(INDArray diagonal, long[] blockSizes, long[] widths) {
        super(blockSizes);
        this.diagonal = diagonal.reshape('c', new long[] {diagonal.length()});
        this.widths = widths.clone();
    }

    @Override
    public Structure structure() {
        return Structure.DIAG;
    }

    private INDArray precision(double c, double[] delta) {
        INDArray p = diagonal.mul(c);
        long off = 0;
        for (int b = 0; b < blocks(); b++) {
            p.get(NDArrayIndex.interval(off, off + blockSizes[b])).addi(delta[b]);
            off += blockSizes[b];
        }
        requirePositive(p.minNumber().doubleValue(), "");
        return p;
    }

    @Override
    public double logDet(double c, double[] delta) {
        return org.nd4j.linalg.ops.transforms.Transforms.log(precision(c, delta), false).sumNumber().doubleValue();
    }

    @Override
    public INDArray solve(INDArray v, double c, double[] delta) {
        return v.divColumnVector(precision(c, delta).reshape(size(), 1));
    }

    @Override
    public INDArray dense(double c, double[] delta) {
        return Nd4j.diag(precision(c, delta));
    }

    @Override
    public INDArray functionalCovariance(LayerJacobians jac, int first, double c, double[] delta) {
        INDArray inv = precision(c, delta).rdivi(1.0);
        INDArray cov = null;
        long off = 0;
        for (int l = 0; l < blocks(); l++) {
            INDArray u = jac.inputs(first + l);
            INDArray il = inv.get(NDArrayIndex.interval(off, off + blockSizes[l])).dup('c').reshape('c', new long[] {blockSizes[l] / widths[l], widths[l]});
            INDArray part = separableCovariance(u.mul(u), jac.outputGradients(first + l), il);
            cov = cov == null ? part : cov.addi(part);
            off += blockSizes[l];
        }
        return cov;
    }

    @Override
    public Map<String, INDArray> arrays() {
        return Map.of("diagonal", diagonal);
    }
}
