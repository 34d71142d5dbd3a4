package dev.curvlab.nn.train;

import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.model.Sequential;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Evaluation metrics of a model at given parameters, computed with whole-array ND4J operations. */
public final class Metrics {
    private Metrics() {
    }

    /**
     * Classification accuracy {@code (1/n) sum_i [yhat_i == y_i]}. With {@code C >= 2} outputs
     * (logits) the predicted class is {@code yhat_i = argmax_c f(theta, x_i)_c}; with one output (a
     * logit, as for {@code bce}) it is {@code yhat_i = [f(theta, x_i) > 0]}.
     *
     * @param data features and class indices {@code [n]} (or {@code [n, 1]} holding 0/1 for one output)
     * @return the fraction of correctly classified rows, in {@code [0, 1]}
     * @throws IllegalArgumentException if the targets are not class indices of a fitting shape
     */
    public static double accuracy(Sequential model, INDArray theta, Dataset data) {
        INDArray y = data.y();
        if (y.rank() == 2 && y.size(1) == 1) {
            y = y.reshape('c', new long[] {y.size(0)});
        }
        if (y.rank() != 1) {
            throw new IllegalArgumentException("accuracy needs class indices [n], got targets of shape " + Arrays.toString(data.y().shape()));
        }
        INDArray out = model.predict(theta, data.x());
        INDArray pred = out.size(1) == 1
                ? out.reshape('c', new long[] {out.size(0)}).gt(0.0).castTo(DataType.DOUBLE)
                : Nd4j.argMax(out, 1).castTo(DataType.DOUBLE);
        return pred.eq(y).castTo(DataType.DOUBLE).sumNumber().doubleValue() / data.n();
    }

    /**
     * Mean squared error {@code (1/(n k)) sum_{i,j} (f(theta, x_i)_j - y_ij)^2} over all elements
     * (the {@code mse} loss with {@code MEAN} reduction).
     *
     * @param data features and real-valued targets {@code [n, k]}, k = the model's output width
     */
    public static double meanSquaredError(Sequential model, INDArray theta, Dataset data) {
        INDArray out = model.predict(theta, data.x());
        if (!Arrays.equals(out.shape(), data.y().shape())) {
            throw new IllegalArgumentException("model outputs of shape " + Arrays.toString(out.shape())
                    + " do not match targets of shape " + Arrays.toString(data.y().shape()));
        }
        INDArray diff = out.sub(data.y());
        return diff.muli(diff).meanNumber().doubleValue();
    }
}
