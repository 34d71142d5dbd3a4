package dev.curvlab.curvature.laplace;

import dev.curvlab.core.kernels.MatMulKernel;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.curvature.kfac.LayerJacobians;
import dev.curvlab.curvature.kfac.ParametricLayers;
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
    private final boolean[] transposed;

    KronPrecision(List<INDArray> a, List<INDArray> g) {
        this(a, g, new boolean[a.size()]);
    }

    /** @param transposed per layer, true where the flat order transposes the kron order's weight part (conv, {@link ParametricLayers}) */
    KronPrecision(List<INDArray> a, List<INDArray> g, boolean[] transposed) {
        super(sizes(a, g));
        this.a = a;
        this.g = g;
        this.transposed = transposed.clone();
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

    /** Layer l's eigenbases {@code {Q_A, Q_G}}. */
    INDArray[] bases(int l) {
        return new INDArray[] {eigA[l].vectors(), eigG[l].vectors()};
    }

    /** {@code 1 / E_l} in the kron order {@code [rows, cols]}, row-major. */
    double[] inverseEigenvalues(int l, double c, double delta) {
        double[] e = RawAccess.readAll(eigenvalues(l, c, delta).dup('c'));
        for (int k = 0; k < e.length; k++) {
            e[k] = 1 / e[k];
        }
        return e;
    }

    /**
     * {@code J P^-1 J^T} per input from the Jacobian in the eigenbases ({@code Jq [S, out, n_l]} per
     * layer): {@code sum_l sum_k Jq[s, o, k] Jq[s, o', k] / E_l[k]}; no solve, no dense J.
     */
    INDArray covarianceInBases(java.util.List<double[]> jq, int s, int out, double c, double[] delta) {
        double[] cov = new double[s * out * out];
        for (int l = 0; l < blocks(); l++) {
            double[] inv = inverseEigenvalues(l, c, delta[l]);
            double[] j = jq.get(l);
            int n = inv.length;
            for (int i = 0; i < s; i++) {
                for (int o = 0; o < out; o++) {
                    int jo = (i * out + o) * n;
                    for (int q = 0; q <= o; q++) {
                        int jq2 = (i * out + q) * n;
                        double acc = 0;
                        for (int k = 0; k < n; k++) {
                            acc += j[jo + k] * j[jq2 + k] * inv[k];
                        }
                        cov[(i * out + o) * out + q] += acc;
                        if (q != o) {
                            cov[(i * out + q) * out + o] += acc;
                        }
                    }
                }
            }
        }
        return Nd4j.create(cov, new long[] {s, out, out}, DataType.DOUBLE);
    }

    @Override
    public double logDet(double c, double[] delta) {
        double sum = 0;
        for (int l = 0; l < blocks(); l++) {
            sum += org.nd4j.linalg.ops.transforms.Transforms.log(eigenvalues(l, c, delta[l]), false).sumNumber().doubleValue();
        }
        return sum;
    }

    /**
     * Per layer: the block {@code V_l [n_l, k]} to the kron order, each column as {@code X [rows, cols]};
     * {@code Q_A (Q_A^T X Q_G ./ E) Q_G^T} for all k columns at once (four GEMMs), back to the flat order.
     */
    @Override
    public INDArray solve(INDArray v, double c, double[] delta) {
        INDArray out = Nd4j.create(DataType.DOUBLE, v.shape());
        long off = 0;
        for (int l = 0; l < blocks(); l++) {
            INDArray vl = v.get(NDArrayIndex.interval(off, off + blockSizes[l]), NDArrayIndex.all());
            out.get(NDArrayIndex.interval(off, off + blockSizes[l]), NDArrayIndex.all()).assign(solveBlock(l, vl, c, delta[l]));
            off += blockSizes[l];
        }
        return out;
    }

    /** Layer l's block of {@code P^-1 V}, {@code V_l [n_l, k]} in the flat order. */
    private INDArray solveBlock(int l, INDArray vl, double c, double delta) {
        INDArray qa = eigA[l].vectors();
        INDArray qg = eigG[l].vectors();
        int rows = (int) qa.size(0);
        int cols = (int) qg.size(0);
        long k = vl.size(1);
        int[] perm = ParametricLayers.flatToKron(rows, cols, transposed[l]);
        double[] x = toKronColumns(RawAccess.readAll(vl.dup('c')), perm, k);
        INDArray y = rotateRows(Nd4j.create(x, new long[] {k * rows, cols}, DataType.DOUBLE).mmul(qg), qa, k, rows, cols);
        double[] e = RawAccess.readAll(eigenvalues(l, c, delta).dup('c'));
        double[] yv = RawAccess.readAll(y);                                       // [rows, k, cols]
        for (int r = 0; r < rows; r++) {
            for (long j = 0; j < k; j++) {
                for (int f = 0; f < cols; f++) {
                    yv[(int) ((r * k + j) * cols + f)] /= e[r * cols + f];
                }
            }
        }
        INDArray z = qa.mmul(Nd4j.create(yv, new long[] {rows, k * cols}, DataType.DOUBLE)).reshape('c', new long[] {rows, k, cols})
                .permute(1, 0, 2).dup('c').reshape('c', new long[] {k * rows, cols}).mmul(qg.transpose());
        return Nd4j.create(fromKronColumns(RawAccess.readAll(z.dup('c')), perm, k), new long[] {perm.length, k}, DataType.DOUBLE);
    }

    /** {@code [n, k]} (flat order, row-major) to {@code [k, n]} in the kron order. */
    private static double[] toKronColumns(double[] v, int[] perm, long k) {
        double[] x = new double[v.length];
        for (int i = 0; i < perm.length; i++) {
            for (int j = 0; j < k; j++) {
                x[(int) (j * perm.length + perm[i])] = v[(int) (i * k + j)];
            }
        }
        return x;
    }

    /** The inverse of {@link #toKronColumns}. */
    private static double[] fromKronColumns(double[] z, int[] perm, long k) {
        double[] back = new double[z.length];
        for (int i = 0; i < perm.length; i++) {
            for (int j = 0; j < k; j++) {
                back[(int) (i * k + j)] = z[(int) (j * perm.length + perm[i])];
            }
        }
        return back;
    }

    /** {@code [k rows, cols]} (C order, as {@code [k, rows, cols]}) to {@code Q_A^T} applied on the rows: {@code [rows, k cols]}. */
    private static INDArray rotateRows(INDArray y, INDArray qa, long k, int rows, int cols) {
        INDArray byRow = y.reshape('c', new long[] {k, rows, cols}).permute(1, 0, 2).dup('c').reshape('c', new long[] {rows, k * cols});
        return qa.transpose().mmul(byRow).dup('c');
    }

    @Override
    public INDArray dense(double c, double[] delta) {
        INDArray p = Nd4j.zeros(DataType.DOUBLE, size(), size());
        long off = 0;
        for (int l = 0; l < blocks(); l++) {
            INDArray block = KfacFactors.kron(a.get(l), g.get(l)).muli(c).addi(Nd4j.eye(blockSizes[l]).castTo(DataType.DOUBLE).muli(delta[l]));
            if (transposed[l]) {
                block = ParametricLayers.toFlatOrder(block, (int) a.get(l).size(0), (int) g.get(l).size(0));
            }
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
