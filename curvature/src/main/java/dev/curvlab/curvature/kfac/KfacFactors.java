package dev.curvlab.curvature.kfac;

import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * KFAC factors of a dense chain for the mean loss, one pair per layer: {@code A_l = (1/n) sum_i
 * a~_i a~_i^T} ({@code [in+1, in+1]}) and {@code G_l = sum_i J_i^T H_i J_i} ({@code [out, out]}), the
 * layer's block approximated by {@code A_l kron G_l} (rows and columns in the layer's parameter
 * order: W~ = [W; b] row-major). With EKFAC, {@code ekfac.get(l)} is the re-fitted diagonal
 * {@code [in+1, out]} in the eigenbasis {@code Q_A kron Q_G} of the factors.
 *
 * <p>Conv layers (KFC, "expand": {@link ConvKfac}) have {@code A_l [C kh kw + 1, C kh kw + 1]} and
 * {@code G_l [F, F]} in the same roles, over {@code W~ = [W^T; b^T] [C kh kw + 1, F]}; their flat
 * parameter order transposes W~'s weight part ({@link ParametricLayers#flatToKron}), so the blocks
 * below are permuted into the flat order where {@code transposedWeights} says so.
 *
 * @param ekfac null unless EKFAC was asked for
 * @param ekfacBases per layer {@code {Q_A, Q_G}} (null unless EKFAC)
 * @param transposedWeights per layer, true where the flat order is the kron order with the weight part
 *     transposed (conv); null when none is (dense chains)
 */
public record KfacFactors(KfacVariant variant, List<INDArray> a, List<INDArray> g, List<INDArray> ekfac, List<INDArray[]> ekfacBases,
        boolean[] transposedWeights) {
    /** Factors of layers whose flat order is the kron order (dense chains). */
    public KfacFactors(KfacVariant variant, List<INDArray> a, List<INDArray> g, List<INDArray> ekfac, List<INDArray[]> ekfacBases) {
        this(variant, a, g, ekfac, ekfacBases, null);
    }

    public int layers() {
        return a.size();
    }

    /** Whether layer l's flat order transposes the kron order's weight part (conv). */
    public boolean transposed(int l) {
        return transposedWeights != null && transposedWeights[l];
    }

    /** {@code A_l kron G_l}, {@code [(in+1) out, (in+1) out]}, rows and columns in the flat parameter order. */
    public INDArray kfacBlock(int l) {
        return toFlatOrder(kron(a.get(l), g.get(l)), l);
    }

    /** A kron-order block of layer l with rows and columns permuted into the flat parameter order. */
    private INDArray toFlatOrder(INDArray block, int l) {
        if (!transposed(l)) {
            return block;
        }
        return ParametricLayers.toFlatOrder(block, (int) a.get(l).size(0), (int) g.get(l).size(0));
    }

    /** {@code (Q_A kron Q_G) diag(d) (Q_A kron Q_G)^T} for layer l (EKFAC only). */
    public INDArray ekfacBlock(int l) {
        if (ekfac == null) {
            throw new IllegalStateException("no EKFAC diagonal was computed");
        }
        INDArray q = kron(ekfacBases.get(l)[0], ekfacBases.get(l)[1]);
        INDArray d = ekfac.get(l).reshape('c', new long[] {q.size(0)});
        return toFlatOrder(q.mulRowVector(d).mmul(q.transpose()), l);
    }

    /** The block-diagonal matrix {@code [N, N]} (KFAC blocks, or EKFAC's when computed). */
    public INDArray dense() {
        long n = 0;
        for (int l = 0; l < layers(); l++) {
            n += a.get(l).size(0) * g.get(l).size(0);
        }
        INDArray m = Nd4j.zeros(DataType.DOUBLE, n, n);
        long off = 0;
        for (int l = 0; l < layers(); l++) {
            INDArray b = ekfac != null ? ekfacBlock(l) : kfacBlock(l);
            long s = b.size(0);
            m.get(NDArrayIndex.interval(off, off + s), NDArrayIndex.interval(off, off + s)).assign(b);
            off += s;
        }
        return m;
    }

    /** {@code x kron y}: entry {@code ((i, o), (j, p)) = x[i, j] y[o, p]}. */
    public static INDArray kron(INDArray x, INDArray y) {
        long a = x.size(0);
        long b = x.size(1);
        long c = y.size(0);
        long d = y.size(1);
        INDArray k = x.reshape(a, 1, b, 1).mul(y.reshape(1, c, 1, d));
        return k.reshape('c', new long[] {a * c, b * d});
    }
}
