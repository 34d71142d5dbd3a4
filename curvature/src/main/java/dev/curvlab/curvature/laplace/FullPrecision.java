package dev.curvlab.curvature.laplace;

import dev.curvlab.core.kernels.MatMulKernel;
import dev.curvlab.curvature.kfac.LayerJacobians;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A dense posterior precision: C {@code [N, N]} with its eigen-decomposition {@code C = V diag(lambda) V^T},
 * so that for one prior precision delta on all layers {@code P = V diag(c lambda + delta) V^T}
 * (log det and solves in O(N) and O(N^2) per evaluation); a per-layer prior decomposes P itself.
 */
final class FullPrecision extends PosteriorPrecision {
    private final INDArray curvature;
    private SymmetricEigen.Decomposition eigen;
    private double[] cachedKey;
    private Spectrum cached;

    /** P's eigenvalues {@code [N]} and eigenvectors {@code [N, N]}. */
    private record Spectrum(double[] values, INDArray vectors) {
    }

    FullPrecision(INDArray curvature, long[] blockSizes) {
        super(blockSizes);
        if (curvature.size(0) != size()) {
            throw new IllegalArgumentException("curvature of size " + curvature.size(0) + " for " + size() + " parameters");
        }
        this.curvature = curvature;
    }

    @Override
    public Structure structure() {
        return Structure.FULL;
    }

    private Spectrum spectrum(double c, double[] delta) {
        double[] key = new double[delta.length + 1];
        key[0] = c;
        System.arraycopy(delta, 0, key, 1, delta.length);
        if (cached != null && Arrays.equals(key, cachedKey)) {
            return cached;
        }
        Spectrum s;
        if (Arrays.stream(delta).distinct().count() == 1) {
            if (eigen == null) {
                eigen = SymmetricEigen.decompose(curvature);
            }
            double[] v = eigen.values().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] = c * v[i] + delta[0];
            }
            s = new Spectrum(v, eigen.vectors());
        } else {
            SymmetricEigen.Decomposition d = SymmetricEigen.decompose(dense(c, delta));
            s = new Spectrum(d.values(), d.vectors());
        }
        for (double v : s.values()) {
            requirePositive(v, "");
        }
        cachedKey = key;
        cached = s;
        return s;
    }

    @Override
    public double logDet(double c, double[] delta) {
        double sum = 0;
        for (double v : spectrum(c, delta).values()) {
            sum += Math.log(v);
        }
        return sum;
    }

    @Override
    public INDArray solve(INDArray v, double c, double[] delta) {
        Spectrum s = spectrum(c, delta);
        INDArray vt = MatMulKernel.gemm(s.vectors(), v, true, false);
        vt.diviColumnVector(Nd4j.create(s.values(), new long[] {s.values().length, 1}, DataType.DOUBLE));
        return MatMulKernel.gemm(s.vectors(), vt, false, false);
    }

    @Override
    public INDArray dense(double c, double[] delta) {
        INDArray p = curvature.mul(c);
        long off = 0;
        for (int b = 0; b < blocks(); b++) {
            for (long i = off; i < off + blockSizes[b]; i++) {
                p.putScalar(i, i, p.getDouble(i, i) + delta[b]);
            }
            off += blockSizes[b];
        }
        return p;
    }

    @Override
    public INDArray functionalCovariance(LayerJacobians jac, int first, double c, double[] delta) {
        Spectrum s = spectrum(c, delta);
        INDArray j0 = jac.dense(first);
        long samples = j0.size(0);
        long out = j0.size(1);
        INDArray j = j0;
        for (int l = first + 1; l < first + blocks(); l++) {
            j = Nd4j.concat(2, j, jac.dense(l));
        }
        INDArray jv = MatMulKernel.gemm(j.reshape('c', new long[] {samples * out, size()}), s.vectors(), false, false);
        INDArray inv = Nd4j.create(s.values(), new long[] {1, s.values().length}, DataType.DOUBLE);
        jv.diviRowVector(org.nd4j.linalg.ops.transforms.Transforms.sqrt(inv, true));
        INDArray jv3 = jv.reshape('c', new long[] {samples, out, size()});
        return MatMulKernel.matmul(jv3, jv3, false, true);
    }

    @Override
    public Map<String, INDArray> arrays() {
        return Map.of("curvature", curvature);
    }

    /** The covered layers' diagonal block of a dense matrix over all parameters. */
    static INDArray subset(INDArray all, long from, long to) {
        return all.get(NDArrayIndex.interval(from, to), NDArrayIndex.interval(from, to)).dup('c');
    }

    static List<String> files() {
        return List.of("curvature");
    }
}
