package dev.curvlab.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LargeMatrixTest {
    @Test
    void largeMatricesAreZeroCOrderFloat64AndBehaveLikeNd4jArrays() {
        long rows = 2100;
        long cols = 2500;                                    // 42 MB: above the threshold, several pieces
        INDArray m = LargeMatrix.zeros(rows, cols);
        assertArrayEquals(new long[] {rows, cols}, m.shape());
        assertEquals(DataType.DOUBLE, m.dataType());
        assertEquals('c', m.ordering());
        assertEquals(0.0, m.amaxNumber().doubleValue());
        m.putScalar(new long[] {rows - 1, cols - 1}, 3.0);
        m.putScalar(new long[] {7, 11}, -2.0);
        double[] last = new double[1];
        RawAccess.read(m, rows * cols - 1, last, 0, 1);
        assertEquals(3.0, last[0]);
        assertEquals(1.0, m.sumNumber().doubleValue(), 0.0);
        INDArray product = m.getRow(7).reshape(1, cols).mmul(Nd4j.ones(DataType.DOUBLE, cols, 1));
        assertEquals(-2.0, product.getDouble(0));
        m.close();
    }

    @Test
    void smallMatricesComeFromNd4j() {
        INDArray m = LargeMatrix.zeros(3, 4);
        assertArrayEquals(new long[] {3, 4}, m.shape());
        assertEquals(0.0, m.amaxNumber().doubleValue());
    }

    @Test
    void closingReleasesTheMemory() {
        long before = 0;
        for (int i = 0; i < 20; i++) {                      // 20 x 80 MB, each fully touched
            INDArray m = LargeMatrix.zeros(3200, 3200);
            m.close();
            if (i == 0) {
                before = Pointer.physicalBytes();
            }
        }
        long grown = Pointer.physicalBytes() - before;
        assertTrue(grown < (200L << 20), "resident memory grew by " + (grown >> 20) + " MB over 19 allocate/close cycles of 80 MB");
        LargeMatrix.releaseSpare();
    }

    @Test
    void aClosedMatrixsMemoryIsReusedZeroed() {
        INDArray a = LargeMatrix.zeros(2100, 2500);
        a.assign(3.0);
        long address = a.data().address();
        a.close();
        INDArray b = LargeMatrix.zeros(2000, 2500);             // smaller: reuses the spare
        assertEquals(address, b.data().address());
        assertEquals(0.0, b.amaxNumber().doubleValue(), "reused memory is zeroed");
        INDArray c = LargeMatrix.zeros(2000, 2500);             // the spare is taken: fresh memory
        assertTrue(c.data().address() != address);
        b.close();
        c.close();
        LargeMatrix.releaseSpare();
    }

    @Test
    void matricesOverADirectBufferReadAndWriteIt() {
        java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(64 + 8 * 6).order(java.nio.ByteOrder.nativeOrder());
        for (int i = 0; i < direct.capacity(); i++) {
            direct.put(i, (byte) 7);
        }
        direct.putDouble(64 + 8 * 4, -1.5);                   // element (1, 1)
        INDArray m = LargeMatrix.over(direct, 64, 2, 3);
        assertEquals(-1.5, m.getDouble(1, 1));
        m.putScalar(new long[] {1, 2}, 5.0);
        assertEquals(5.0, direct.getDouble(64 + 8 * 5));
        assertEquals(7, direct.get(63));                     // the bytes before the matrix are untouched
    }
}
