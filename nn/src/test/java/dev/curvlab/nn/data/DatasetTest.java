package dev.curvlab.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DatasetTest {

    /** x[i] = (i, 10 i, 100 i), y[i] = i % 3. */
    private static Dataset sample(int n) {
        double[] x = new double[n * 3];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[3 * i] = i;
            x[3 * i + 1] = 10 * i;
            x[3 * i + 2] = 100 * i;
            y[i] = i % 3;
        }
        return new Dataset(Nd4j.create(x, new long[] {n, 3}, DataType.DOUBLE), Nd4j.create(y, new long[] {n}, DataType.DOUBLE));
    }

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void basicsAndDefensiveCopy() {
        INDArray x = Nd4j.create(new float[] {1, 2, 3, 4, 5, 6}, new long[] {3, 2}, DataType.FLOAT);
        INDArray y = Nd4j.create(new double[] {0.5, 1.5, 2.5}, new long[] {3, 1}, DataType.DOUBLE);
        Dataset ds = new Dataset(x, y);
        assertEquals(3, ds.n());
        assertEquals(2, ds.d());
        assertEquals(1, ds.k());
        assertFalse(ds.hasClassIndices());
        assertEquals(DataType.DOUBLE, ds.x().dataType());
        assertEquals(DataType.DOUBLE, ds.y().dataType());
        y.putScalar(0, 0, 99.0);
        assertEquals(0.5, ds.y().getDouble(0, 0), "constructor must copy");
        assertThrows(IllegalStateException.class, ds::numClasses);

        Dataset c = sample(7);
        assertTrue(c.hasClassIndices());
        assertEquals(3, c.numClasses());
        assertEquals(1, c.k());
        assertEquals("Dataset[n=7, d=3, y=class indices, 3 classes]", c.toString());
    }

    @Test
    void imagesKeepTheirShapeThroughSubsetsAndRowRanges() {
        INDArray x = Nd4j.linspace(DataType.DOUBLE, 0, 5 * 2 * 3 * 2, 1).reshape(5, 2, 3, 2);
        Dataset d = new Dataset(x, Nd4j.create(new double[] {0, 1, 2, 1, 0}, new long[] {5}, DataType.DOUBLE));
        assertTrue(d.hasImages());
        assertEquals(12, d.d());
        assertEquals("[2, 3, 2]", java.util.Arrays.toString(d.sampleShape()));
        Dataset s = d.subset(new int[] {3, 1});
        assertEquals("[2, 2, 3, 2]", java.util.Arrays.toString(s.x().shape()));
        assertEquals(x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(3)), s.x().get(org.nd4j.linalg.indexing.NDArrayIndex.point(0)));
        Dataset r = d.rows(1, 4);
        assertEquals(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 4)), r.x());
        assertEquals(2.0, r.y().getDouble(1), 0.0);
        INDArray bad = x.dup();
        bad.putScalar(new long[] {2, 1, 0, 1}, Double.NaN);
        String m = message(() -> new Dataset(bad, d.y()));
        assertTrue(m.contains("row 2, feature 7"), m);
        assertTrue(message(() -> new Dataset(Nd4j.zeros(DataType.DOUBLE, 5, 2, 3), d.y())).contains("[n, C, H, W]"));
    }

    @Test
    void rejectsBadShapes() {
        INDArray x = Nd4j.zeros(DataType.DOUBLE, 4, 2);
        assertTrue(message(() -> new Dataset(Nd4j.zeros(DataType.DOUBLE, 4), Nd4j.zeros(DataType.DOUBLE, 4)))
                .contains("rank 2"));
        assertTrue(message(() -> new Dataset(x, Nd4j.zeros(DataType.DOUBLE, 4, 1, 1))).contains("[n, k]"));
        assertEquals("x has 4 rows but y has 5", message(() -> new Dataset(x, Nd4j.zeros(DataType.DOUBLE, 5))));
    }

    @Test
    void namesFirstNonFiniteFeature() {
        int n = 1000;
        INDArray x = Nd4j.rand(DataType.DOUBLE, n, 5);
        x.putScalar(999, 4, Double.POSITIVE_INFINITY);
        x.putScalar(612, 3, Double.NaN);
        x.putScalar(612, 4, Double.NaN);
        String m = message(() -> new Dataset(x, Nd4j.zeros(DataType.DOUBLE, n)));
        assertEquals("features x contain a non-finite value (NaN) at row 612, column 3", m);
        // Fortran-ordered input: position is still reported in logical (row, column) terms
        INDArray f = x.dup('f');
        assertEquals(m, message(() -> new Dataset(f, Nd4j.zeros(DataType.DOUBLE, n))));
    }

    @Test
    void namesFirstNonFiniteTarget() {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 3, 2);
        y.putScalar(2, 1, Double.NEGATIVE_INFINITY);
        assertEquals("targets y contain a non-finite value (-Infinity) at row 2, column 1",
                message(() -> new Dataset(Nd4j.zeros(DataType.DOUBLE, 3, 2), y)));
        INDArray c = Nd4j.create(new double[] {0, Double.NaN, 1}, new long[] {3}, DataType.DOUBLE);
        assertEquals("targets y contain a non-finite value (NaN) at row 1",
                message(() -> new Dataset(Nd4j.zeros(DataType.DOUBLE, 3, 2), c)));
    }

    @Test
    void rejectsInvalidClassIndices() {
        INDArray x = Nd4j.zeros(DataType.DOUBLE, 3, 2);
        String m = message(() -> new Dataset(x, Nd4j.create(new double[] {0, 1.5, 2}, new long[] {3}, DataType.DOUBLE)));
        assertTrue(m.contains("row 1 has 1.5"), m);
        m = message(() -> new Dataset(x, Nd4j.create(new double[] {0, 1, -2}, new long[] {3}, DataType.DOUBLE)));
        assertTrue(m.contains("row 2 has -2.0"), m);
    }

    @Test
    void subsetKeepsOrderAndAllowsDuplicates() {
        Dataset ds = sample(10);
        Dataset s = ds.subset(new int[] {7, 2, 7});
        assertEquals(3, s.n());
        assertArrayEquals(new double[] {7, 70, 700, 2, 20, 200, 7, 70, 700}, s.x().data().asDouble());
        assertArrayEquals(new long[] {3}, s.y().shape());
        assertArrayEquals(new double[] {1, 2, 1}, s.y().toDoubleVector());

        Dataset reg = new Dataset(ds.x(), ds.x().mul(2));
        Dataset r = reg.subset(new int[] {1});
        assertArrayEquals(new long[] {1, 3}, r.y().shape());
        assertArrayEquals(new double[] {2, 20, 200}, r.y().data().asDouble());

        assertThrows(IndexOutOfBoundsException.class, () -> ds.subset(new int[] {10}));
        assertThrows(IndexOutOfBoundsException.class, () -> ds.subset(new int[] {-1}));
        assertThrows(IllegalArgumentException.class, () -> ds.subset(new int[0]));
    }

    @Test
    void singleFeatureColumnSubset() {
        Dataset ds = new Dataset(Nd4j.create(new double[] {1, 2, 3}, new long[] {3, 1}, DataType.DOUBLE),
                Nd4j.create(new double[] {0, 1, 0}, new long[] {3}, DataType.DOUBLE));
        Dataset s = ds.subset(new int[] {2, 0});
        assertArrayEquals(new long[] {2, 1}, s.x().shape());
        assertArrayEquals(new double[] {3, 1}, s.x().data().asDouble());
    }

    @Test
    void seededSplitIsDeterministicPartition() {
        Dataset ds = sample(50);
        Dataset.Split a = ds.split(0.8, 42);
        Dataset.Split b = ds.split(0.8, 42);
        Dataset.Split c = ds.split(0.8, 43);
        assertEquals(40, a.train().n());
        assertEquals(10, a.test().n());
        assertEquals(a.train().x(), b.train().x());
        assertEquals(a.test().y(), b.test().y());
        assertNotEquals(a.train().x(), c.train().x());

        double[] ids = new double[50];
        double[] tr = a.train().x().getColumn(0).toDoubleVector();
        double[] te = a.test().x().getColumn(0).toDoubleVector();
        System.arraycopy(tr, 0, ids, 0, 40);
        System.arraycopy(te, 0, ids, 40, 10);
        double[] sortedTrain = tr.clone();
        Arrays.sort(sortedTrain);
        assertFalse(Arrays.equals(tr, sortedTrain), "rows must be shuffled");
        Arrays.sort(ids);
        for (int i = 0; i < 50; i++) {
            assertEquals(i, ids[i]);
        }
        // targets travel with their rows
        double[] yTrain = a.train().y().toDoubleVector();
        for (int i = 0; i < 40; i++) {
            assertEquals(tr[i] % 3, yTrain[i]);
        }
    }

    @Test
    void splitEdgeCases() {
        Dataset ds = sample(3);
        assertEquals(2, ds.split(0.99, 1).train().n());
        assertEquals(1, ds.split(0.01, 1).train().n());
        assertThrows(IllegalArgumentException.class, () -> ds.split(0, 1));
        assertThrows(IllegalArgumentException.class, () -> ds.split(1, 1));
        assertThrows(IllegalArgumentException.class, () -> ds.split(Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> sample(1).split(0.5, 1));
    }
}
