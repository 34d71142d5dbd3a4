package dev.curvlab.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MetricsTest {
    private static INDArray m(double[][] rows) {
        return Nd4j.create(rows).castTo(DataType.DOUBLE);
    }

    private static INDArray v(double... values) {
        return Nd4j.create(values, new long[] {values.length}, DataType.DOUBLE);
    }

    @Test
    void accuracyIsArgmaxAgreement() {
        // identity 2 -> 3 layer: W = [[1, 0, 0], [0, 1, 0]], b = [0, 0, 0.5]: outputs (x0, x1, 0.5)
        Sequential model = Sequential.builder(2).dense(3, Activation.IDENTITY).build();
        INDArray theta = v(1, 0, 0, 0, 1, 0, 0, 0, 0.5);
        INDArray x = m(new double[][] {{2, 1}, {0, 3}, {0, 0}, {1, 0}});
        // predicted classes 0, 1, 2, 0
        Dataset data = new Dataset(x, v(0, 1, 2, 2));
        assertEquals(0.75, Metrics.accuracy(model, theta, data), 0.0);
        assertEquals(1.0, Metrics.accuracy(model, theta, new Dataset(x, v(0, 1, 2, 0))), 0.0);
    }

    @Test
    void accuracyWithOneLogitThresholdsAtZero() {
        Sequential model = Sequential.builder(1).dense(1, Activation.IDENTITY).build();
        INDArray theta = v(1, -0.5);
        Dataset data = new Dataset(m(new double[][] {{0}, {1}, {2}, {-3}}), v(0, 1, 0, 0));
        assertEquals(0.75, Metrics.accuracy(model, theta, data), 0.0);
    }

    @Test
    void meanSquaredErrorOverAllElements() {
        Sequential model = Sequential.builder(1).dense(2, Activation.IDENTITY).build();
        INDArray theta = v(1, 2, 0, 0); // outputs (x, 2x)
        Dataset data = new Dataset(m(new double[][] {{1}, {2}}), m(new double[][] {{0, 2}, {2, 1}}));
        // errors: (1, 0), (0, 3): (1 + 0 + 0 + 9) / 4
        assertEquals(2.5, Metrics.meanSquaredError(model, theta, data), 1e-15);
    }
}
