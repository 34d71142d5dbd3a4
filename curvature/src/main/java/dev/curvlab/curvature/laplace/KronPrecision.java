package dev.curvlab.curvature.laplace;

import dev.curvlab.core.kernels.MatMulKernel;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.kfac.LayerJacobians;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A Kronecker-factored posterior precision: layer l's block is {@code c (A_l kron G_l) + delta_l I}
 * with the KFAC factors of the mean loss. With {@code A_l = Q_A diag(lambda_A) Q_A^T} and
 * {@code G_l = Q_G diag(lambda_G) Q_G^T}, the block is {@code (Q_A kron Q_G) diag(E_l) (Q_A kron Q_G)^T}
 * with {@code E_l[i, p] = c lambda_A[i] lambda_G[p] + delta_l}: log det is {@code sum log E}, a solve
 * rotates {@code V_l [in+1, out]} to {@code Q_A^T V_l Q_G}, divides by E and rotates back. Memory:
 * the factors and their eigenvectors, never N^2.
 */
final class KronPrecision extends PosteriorPrecision {
    private final List<INDArray> a;
    private final List<INDArray> g;
    private final SymmetricEigen.Decomposition[] eigA;
    private final SymmetricEigen.Decomposition[] eigG;

    KronPrecision(List<INDArray> a, List<INDArray> g) {
        super(sizes(a, g));
        this.a = a;
        this.g = g;
        eigA = new SymmetricEigen.Decomposition[a.size()];
        eigG = new SymmetricEigen.Decomposition[a.size()];
        for (int l = 0; l < a.size(); l++) {
            eigA[l] = SymmetricEigen.decompose(a.get(l));
            eigG[l] = SymmetricEigen.decompose(g.get(l));
        }
    }

    private static long[] sizes(List<INDArray> a, List<INDArray> g) {
        long[] s = new long[a.size()];
        for (int l = 0; l < s.length; l++) {
            s[l] = a.get(l).size(0) * g.get(l).size(0);
        }
        return s;
    }

    @Override
    public Structure structure() {
        return Structure.KRON;
    }

    /** {@code E_l [in+1, out]}. */
    private INDArray eigenvalues(int l, double c, double delta) {
        INDArray la = Nd4j.create(eigA[l].values(), new long[] {eigA[l].values().length, 1}, DataType.DOUBLE);
        INDArray lg = Nd4j.create(eigG[l].values(), new long[] {1, eigG[l].values().length}, DataType.DOUBLE);
        INDArray e = MatMulKernel.gemm(la, lg, false, false).muli(c).addi(delta);
        double min = e.minNumber().doubleValue();
        requirePositive(min, " in layer block " + l);
        return e;
    }

    @Override
    public double logDet(double c, double[] delta) {
        double sum = 0;
        for (int l = 0; l < blocks(); l++) {
            sum += org.nd4j.linalg.ops.transforms.Transforms.log(eigenvalues(l, c, delta[l]), false).sumNumber().doubleValue();
        }
        return sum;
    }

    @Override
    public INDArray solve(INDArray v, double c, double[] delta) {
        INDArray out = Nd4j.create(DataType.DOUBLE, v.shape());
        long off = 0;
        for (int l = 0; l < blocks(); l++) {
            INDArray e = eigenvalues(l, c, delta[l]);
            INDArray qa = eigA[l].vectors();
            INDArray qg = eigG[l].vectors();
            long rows = qa.size(0);
            long cols = qg.size(0);
            for (long k = 0; k < v.size(1); k++) {
                INDArray vl = v.get(NDArrayIndex.interval(off, off + blockSizes[l]), NDArrayIndex.point(k)).dup('c').reshape('c', new long[] {rows, cols});
                INDArray r = qa.transpose().mmul(vl).mmul(qg).divi(e);
                INDArray back = qa.mmul(r).mmul(qg.transpose());
                out.get(NDArrayIndex.interval(off, off + blockSizes[l]), NDArrayIndex.point(k)).assign(back.reshape('c', new long[] {blockSizes[l]}));
            }
            off += blockSizes[l];
        }
        return out;
    }

    @Override
    public INDArray dense(double c, double[] delta) {
        INDArray p = Nd4j.zeros(DataType.DOUBLE, size(), size());
        long off = 0;
        for (int l = 0; l < blocks(); l++) {
            INDArray block = KfacFactors.kron(a.get(l), g.get(l)).muli(c).addi(Nd4j.eye(blockSizes[l]).castTo(DataType.DOUBLE).muli(delta[l]));
            p.get(NDArrayIndex.interval(off, off + blockSizes[l]), NDArrayIndex.interval(off, off + blockSizes[l])).assign(block);
            off += blockSizes[l];
        }
        return p;
    }

    @Override
    public INDArray functionalCovariance(LayerJacobians jac, int first, double c, double[] delta) {
        INDArray cov = null;
        for (int l = 0; l < blocks(); l++) {
            INDArray u = jac.inputs(first + l);
            INDArray b = jac.outputGradients(first + l);
            INDArray uq = MatMulKernel.gemm(u, eigA[l].vectors(), false, false);
            INDArray bq = MatMulKernel.gemm(b.reshape('c', new long[] {b.size(0) * b.size(1), b.size(2)}), eigG[l].vectors(), false, false)
                    .reshape('c', b.shape());
            INDArray inv = eigenvalues(l, c, delta[l]).rdivi(1.0);
            INDArray part = separableCovariance(uq.muli(uq), bq, inv);
            cov = cov == null ? part : cov.addi(part);
            uq.close();
            bq.close();
            inv.close();
        }
        return cov;
    }

    @Override
    public Map<String, INDArray> arrays() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (int l = 0; l < blocks(); l++) {
            m.put("A_" + l, a.get(l));
            m.put("G_" + l, g.get(l));
        }
        return m;
    }
}
