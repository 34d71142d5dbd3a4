package dev.curvlab.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class StandardizerTest {

    /** Columns: {1,2,3,4} (mean 2.5, population std sqrt(1.25)), constant 7, {0,0,0,8} (mean 2, std sqrt(12)). */
    private static INDArray train() {
        return Nd4j.create(new double[] {1, 7, 0, 2, 7, 0, 3, 7, 0, 4, 7, 8}, new long[] {4, 3}, DataType.DOUBLE);
    }

    @Test
    void fitsMeanAndPopulationStd() {
        Standardizer s = Standardizer.fit(train());
        assertEquals(3, s.d());
        assertArrayEquals(new double[] {2.5, 7, 2}, s.mean().toDoubleVector(), 1e-15);
        assertArrayEquals(new double[] {Math.sqrt(1.25), 0, Math.sqrt(12)}, s.std().toDoubleVector(), 1e-14);
        assertArrayEquals(new double[] {Math.sqrt(1.25), 1, Math.sqrt(12)}, s.scale().toDoubleVector(), 1e-14);
    }

    @Test
    void transformStandardizesAndConstantColumnBecomesZero() {
        INDArray x = train();
        INDArray before = x.dup();
        INDArray z = Standardizer.fit(x).transform(x);
        assertEquals(before, x, "input must not be modified");
        assertEquals(DataType.DOUBLE, z.dataType());
        double[] mean = z.mean(0).toDoubleVector();
        double[] std = z.std(false, 0).toDoubleVector();
        assertArrayEquals(new double[] {0, 0, 0}, mean, 1e-14);
        assertArrayEquals(new double[] {1, 0, 1}, std, 1e-14);
        assertArrayEquals(new double[] {0, 0, 0, 0}, z.getColumn(1).toDoubleVector());
    }

    @Test
    void inverseRoundTripsAndUsesTrainStatistics() {
        Standardizer s = Standardizer.fit(train());
        INDArray other = Nd4j.create(new double[] {10, 7, 2, -1, 9, 4}, new long[] {2, 3}, DataType.DOUBLE);
        INDArray z = s.transform(other);
        assertEquals((10 - 2.5) / Math.sqrt(1.25), z.getDouble(0, 0), 1e-14);
        assertEquals(9 - 7, z.getDouble(1, 1), 1e-14); // constant column: centred, unscaled
        assertEquals(0.0, z.getDouble(0, 2), 1e-14);
        assertArrayEquals(other.data().asDouble(), s.inverse(z).data().asDouble(), 1e-13);
    }

    @Test
    void worksOnDatasetsAndFloatInput() {
        Dataset ds = new Dataset(train(), Nd4j.create(new double[] {0, 1, 0, 1}, new long[] {4}, DataType.DOUBLE));
        Standardizer s = Standardizer.fit(ds);
        Dataset t = s.transform(ds);
        assertEquals(ds.y(), t.y());
        assertEquals(s.transform(ds.x()), t.x());
        INDArray f = s.transform(train().castTo(DataType.FLOAT));
        assertEquals(DataType.DOUBLE, f.dataType());
        assertArrayEquals(t.x().data().asDouble(), f.data().asDouble(), 1e-6);
    }

    @Test
    void rejectsBadInput() {
        Standardizer s = Standardizer.fit(train());
        assertThrows(IllegalArgumentException.class, () -> s.transform(Nd4j.zeros(DataType.DOUBLE, 2, 4)));
        assertThrows(IllegalArgumentException.class, () -> s.inverse(Nd4j.zeros(DataType.DOUBLE, 3)));
        assertThrows(IllegalArgumentException.class, () -> Standardizer.fit(Nd4j.zeros(DataType.DOUBLE, 3)));
        INDArray nan = train();
        nan.putScalar(2, 2, Double.NaN);
        assertThrows(IllegalArgumentException.class, () -> Standardizer.fit(nan));
    }
}
