package dev.curvlab.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Kernels against naive element loops over every broadcast pattern and transpose flag. */
class KernelsTest {
    private static INDArray rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.DOUBLE, shape).subi(0.5);
    }

    private static long[] index(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return idx;
    }

    private static double at(INDArray a, long[] outIdx) {
        long[] idx = new long[outIdx.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = a.size(i) == 1 ? 0 : outIdx[i];
        }
        return a.getDouble(idx);
    }

    @Test
    void broadcastArithmeticMatchesElementLoop() {
        long[][][] pairs = {
            {{3, 4}, {3, 4}}, {{3, 4}, {1, 4}}, {{1, 4}, {3, 4}}, {{3, 4}, {3, 1}}, {{3, 1}, {3, 4}}, {{3, 1}, {1, 4}},
            {{5, 2, 3}, {1, 2, 3}}, {{1, 2, 3}, {5, 2, 3}}, {{5, 2, 1}, {5, 1, 3}}, {{2, 1, 3, 1}, {1, 4, 3, 2}}, {{4, 1, 1}, {1, 1, 1}}};
        for (BroadcastKernel.Op op : BroadcastKernel.Op.values()) {
            for (long[][] p : pairs) {
                INDArray a = rand(1, p[0]);
                INDArray b = rand(2, p[1]).addi(op == BroadcastKernel.Op.DIV ? 2 : 0);
                long[] out = new long[p[0].length];
                for (int i = 0; i < out.length; i++) {
                    out[i] = Math.max(p[0][i], p[1][i]);
                }
                INDArray c = BroadcastKernel.apply(op, a, b, out);
                assertArrayEquals(out, c.shape());
                long n = c.length();
                for (long f = 0; f < n; f++) {
                    long[] idx = index(f, out);
                    double x = at(a, idx);
                    double y = at(b, idx);
                    double expected = switch (op) {
                        case ADD -> x + y;
                        case SUB -> x - y;
                        case MUL -> x * y;
                        case DIV -> x / y;
                    };
                    assertEquals(expected, c.getDouble(idx), 1e-15, op + " " + java.util.Arrays.deepToString(p));
                }
            }
        }
    }

    @Test
    void broadcastToMatchesElementLoop() {
        long[][][] cases = {{{1, 4}, {3, 4}}, {{3, 1}, {3, 4}}, {{1, 1}, {2, 5}}, {{2, 1, 3}, {2, 4, 3}}, {{1, 2, 1}, {3, 2, 4}}, {{3, 4}, {3, 4}}};
        for (long[][] c : cases) {
            INDArray x = rand(3, c[0]);
            INDArray y = BroadcastKernel.broadcastTo(x, c[1]);
            assertArrayEquals(c[1], y.shape());
            for (long f = 0; f < y.length(); f++) {
                long[] idx = index(f, c[1]);
                assertEquals(at(x, idx), y.getDouble(idx), 0.0);
            }
        }
    }

    @Test
    void concatAndRowBasis() {
        INDArray a = rand(4, 2, 3, 1);
        INDArray b = rand(5, 2, 3, 2);
        INDArray c = BroadcastKernel.concat(2, new INDArray[] {a, b});
        assertEquals(Nd4j.concat(2, a, b), c);
        INDArray basis = BroadcastKernel.rowBasis(3, 4, DataType.DOUBLE);
        for (long f = 0; f < basis.length(); f++) {
            long[] idx = index(f, basis.shape());
            assertEquals(idx[0] == idx[2] ? 1.0 : 0.0, basis.getDouble(idx), 0.0);
        }
    }

    @Test
    void matmulMatchesNaiveLoopForEveryLayout() {
        long[][] batches = {{}, {3}, {1}, {2, 1}, {1, 1}};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (long[] ba : batches) {
                    for (long[] bb : batches) {
                        if (ba.length != bb.length) {
                            continue;
                        }
                        long[] sa = dev.curvlab.core.Shapes.concat(ba, ta ? new long[] {4, 2} : new long[] {2, 4});
                        long[] sb = dev.curvlab.core.Shapes.concat(bb, tb ? new long[] {5, 4} : new long[] {4, 5});
                        INDArray a = rand(6, sa);
                        INDArray b = rand(7, sb);
                        INDArray c = MatMulKernel.matmul(a, b, ta, tb);
                        int r = sa.length;
                        for (long f = 0; f < c.length(); f++) {
                            long[] idx = index(f, c.shape());
                            double s = 0;
                            for (int k = 0; k < 4; k++) {
                                long[] ia = idx.clone();
                                long[] ib = idx.clone();
                                if (ta) {
                                    ia[r - 2] = k;
                                    ia[r - 1] = idx[r - 2];
                                } else {
                                    ia[r - 1] = k;
                                }
                                if (tb) {
                                    ib[r - 2] = idx[r - 1];
                                    ib[r - 1] = k;
                                } else {
                                    ib[r - 2] = k;
                                }
                                s += at(a, ia) * at(b, ib);
                            }
                            assertEquals(s, c.getDouble(idx), 1e-14, "ta=" + ta + " tb=" + tb + " " + java.util.Arrays.toString(sa) + " x " + java.util.Arrays.toString(sb));
                        }
                    }
                }
            }
        }
    }
}
