package dev.curvlab.curvature.kfac;

import dev.curvlab.core.ConvGeometry;
import dev.curvlab.nn.model.Conv2d;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Layer;
import dev.curvlab.nn.model.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * The modules of a {@link Sequential} that own parameters (dense and conv2d; pooling and flatten own
 * none), in order, with each one's Kronecker shape. KFAC, the diagonals and the Laplace posteriors
 * number layers by this list (for a dense chain it is {@link Sequential#layers()}).
 *
 * <p>Every parametric layer is an affine map {@code z = W~^T u} of augmented inputs {@code u = [a, 1]}
 * at T positions, with {@code W~ [rows, cols]}: a dense layer {@code rows = in + 1, cols = out, T = 1};
 * a conv layer {@code rows = C kh kw + 1} (one unfolded patch plus the bias's 1), {@code cols = filters},
 * {@code T = OH OW}. The <em>kron order</em> of a layer's parameters is {@code W~} row-major. A dense
 * layer stores W {@code [in, out]} then b, which is exactly the kron order. A conv layer stores
 * {@code W [F, C, kh, kw]}, i.e. the transpose of {@code W~}'s first {@code rows - 1} rows, then b (the
 * last row): its flat order is the kron order with the weight part transposed ({@link #flatToKron}).
 */
public final class ParametricLayers {
    /** One parametric module: its index in {@code modules()}, start in theta, Kronecker shape and positions. */
    public record Entry(int module, long offset, int rows, int cols, long positions, boolean conv) {
        public long size() {
            return (long) rows * cols;
        }
    }

    private final List<Entry> entries;

    private ParametricLayers(List<Entry> entries) {
        this.entries = entries;
    }

    public static ParametricLayers of(Sequential model) {
        long[] offsets = model.layerOffsets();
        List<Entry> list = new ArrayList<>();
        for (int m = 0; m < model.modules().size(); m++) {
            Layer layer = model.modules().get(m);
            if (layer instanceof Dense d) {
                list.add(new Entry(m, offsets[m], d.in() + 1, d.out(), 1, false));
            } else if (layer instanceof Conv2d c) {
                long[] input = m == 0 ? model.inputShape() : model.outputShape(m - 1);
                ConvGeometry g = c.geometry(input);
                list.add(new Entry(m, offsets[m], Math.toIntExact(g.patchSize() + 1), c.filters(), g.positions(), true));
            }
        }
        return new ParametricLayers(List.copyOf(list));
    }

    public int count() {
        return entries.size();
    }

    public Entry get(int layer) {
        return entries.get(layer);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** Covered parameters from layer {@code first} to the end. */
    public long sizeFrom(int first) {
        long n = 0;
        for (int l = first; l < count(); l++) {
            n += get(l).size();
        }
        return n;
    }

    /** Per layer: true where the flat order transposes the weight part of the kron order (conv). */
    public boolean[] transposedWeights(int first) {
        boolean[] t = new boolean[count() - first];
        for (int l = first; l < count(); l++) {
            t[l - first] = get(l).conv();
        }
        return t;
    }

    /**
     * {@code perm[flat] = kron}: the kron-order index of each flat index of a layer's block. Identity
     * unless {@code transposed}; then flat {@code f (rows - 1) + p} (weight {@code [f, p]}) is kron
     * {@code p cols + f}, and the bias (the last {@code cols} entries) keeps its place.
     */
    public static int[] flatToKron(int rows, int cols, boolean transposed) {
        int[] perm = new int[rows * cols];
        int patch = rows - 1;
        for (int k = 0; k < perm.length; k++) {
            perm[k] = !transposed || k >= patch * cols ? k : (k % patch) * cols + k / patch;
        }
        return perm;
    }

    /** A kron-order square block of a conv layer ({@code [rows cols, rows cols]}) with rows and columns permuted into the flat order. */
    public static org.nd4j.linalg.api.ndarray.INDArray toFlatOrder(org.nd4j.linalg.api.ndarray.INDArray block, int rows, int cols) {
        int[] perm = flatToKron(rows, cols, true);
        double[] k = dev.curvlab.core.kernels.RawAccess.readAll(block.dup('c'));
        int n = perm.length;
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                out[i * n + j] = k[perm[i] * n + perm[j]];
            }
        }
        return org.nd4j.linalg.factory.Nd4j.create(out, new long[] {n, n}, org.nd4j.linalg.api.buffer.DataType.DOUBLE);
    }
}
