package dev.curvlab.curvature.hessian;

import dev.curvlab.core.kernels.RawAccess;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Scratch space reused across the layer pairs of {@link KroneckerBlocks}: native GEMM operands and Java staging arrays. */
final class KroneckerWorkspace {
    /** Largest GEMM result or factor per group by default: 28 MB (below glibc's 32 MB mapping threshold, so reused). */
    static final long BUFFER_DOUBLES = 7L << 19;
    /** Group sizes keep each GEMM result and factor within this many doubles (tests set it tiny to exercise grouping). */
    final long limit;
    private INDArray product;
    private INDArray factor;
    private double[] kr = new double[0];

    KroneckerWorkspace() {
        this(BUFFER_DOUBLES);
    }

    KroneckerWorkspace(long limit) {
        this.limit = limit;
    }

    /** The buffer, or a larger one (by half again) when it holds fewer than {@code need} doubles. */
    private static INDArray ensure(INDArray buffer, long need) {
        if (buffer != null && buffer.length() >= need) {
            return buffer;
        }
        long grown = buffer == null ? need : Math.max(need, buffer.length() * 3 / 2);
        return Nd4j.createUninitialized(DataType.DOUBLE, new long[] {grown}, 'c');
    }

    /** A C-order {@code [r, c]} view over the start of a buffer. */
    private static INDArray view(INDArray buffer, long r, long c) {
        return Nd4j.create(buffer.data(), new long[] {r, c}, new long[] {c, 1}, 0, 'c');
    }

    /** The GEMM result of a group, {@code [r, c]}. */
    INDArray product(long r, long c) {
        product = ensure(product, r * c);
        return view(product, r, c);
    }

    /** The Khatri-Rao (or first-order) factor of a group, {@code [r, c]}. */
    INDArray factor(long r, long c) {
        factor = ensure(factor, r * c);
        return view(factor, r, c);
    }

    double[] kr(int n) {
        return kr = grow(kr, n);
    }

    /** The roles of the Java copies of native arrays a pair reads element by element. */
    enum Copy { INPUTS_K, INPUTS_J, FIRST_ORDER, GRADIENT_J, GROUP_FIRST_ORDER }

    private final double[][] copies = new double[Copy.values().length][0];

    /**
     * The elements of {@code a} (C order) in the Java array kept for {@code role} (grown when too
     * short, possibly longer than {@code a}); valid until the next copy for that role. Reusing
     * these arrays keeps the per-pair copies off the garbage collector's books: fresh copies
     * (about 0.5 GB per run of issue 10's 20-64-64-10 case) grew the Java heap by hundreds of MB
     * that no budget counted.
     */
    double[] copyOf(Copy role, INDArray a) {
        int n = Math.toIntExact(a.length());
        double[] buffer = copies[role.ordinal()] = grow(copies[role.ordinal()], n);
        RawAccess.read(a, 0, buffer, 0, n);
        return buffer;
    }

    private static double[] grow(double[] a, int n) {
        return a.length >= n ? a : new double[n];
    }
}
