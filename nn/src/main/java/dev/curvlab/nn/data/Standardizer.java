package dev.curvlab.nn.data;

import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-column standardisation of features, {@code z = (x - mean) / scale}, fitted on training
 * features {@code [n, d]} and then applied unchanged to any {@code [m, d]} features.
 *
 * <p>{@code mean} is the column mean and {@code std} the population standard deviation (divisor
 * {@code n}, as NumPy's default and scikit-learn's StandardScaler). {@code scale} equals
 * {@code std}, except for constant columns (all values equal, or {@code std == 0}), whose scale is
 * 1: such a column is centred but left unscaled, so it becomes all zeros instead of NaN.
 *
 * <p>All parameters are float64 vectors of length {@code d}; {@link #transform} and
 * {@link #inverse} use vectorised row-vector broadcasts and return new arrays. Instances are
 * immutable.
 */
public final class Standardizer {

    private final INDArray mean;
    private final INDArray std;
    private final INDArray scale;

    private Standardizer(INDArray mean, INDArray std, INDArray scale) {
        this.mean = mean;
        this.std = std;
        this.scale = scale;
    }

    /** Fits on the features of a (training) data set. */
    public static Standardizer fit(Dataset train) {
        return fit(train.x());
    }

    /**
     * Fits on features {@code [n, d]}, {@code n >= 1}.
     *
     * @throws IllegalArgumentException if {@code x} is not rank 2, is empty, or a column has a
     *     non-finite mean
     */
    public static Standardizer fit(INDArray x) {
        Objects.requireNonNull(x, "x");
        if (x.rank() != 2 || x.size(0) < 1) {
            throw new IllegalArgumentException("Standardizer.fit needs features [n, d] with n >= 1, got shape "
                    + Arrays.toString(x.shape()));
        }
        INDArray xd = x.dataType() == DataType.DOUBLE ? x : x.castTo(DataType.DOUBLE);
        double[] mean = xd.mean(0).toDoubleVector();
        double[] std = xd.std(false, 0).toDoubleVector();
        double[] max = xd.max(0).toDoubleVector();
        double[] min = xd.min(0).toDoubleVector();
        double[] scale = new double[mean.length];
        for (int j = 0; j < mean.length; j++) {
            if (!Double.isFinite(mean[j]) || !Double.isFinite(std[j])) {
                throw new IllegalArgumentException("feature column " + j + " contains non-finite values");
            }
            scale[j] = (max[j] == min[j] || std[j] == 0) ? 1.0 : std[j];
        }
        long[] shape = {mean.length};
        return new Standardizer(Nd4j.create(mean, shape, DataType.DOUBLE), Nd4j.create(std, shape, DataType.DOUBLE),
                Nd4j.create(scale, shape, DataType.DOUBLE));
    }

    /** @return number of feature columns {@code d} */
    public int d() {
        return (int) mean.length();
    }

    /** @return column means {@code [d]} (a copy) */
    public INDArray mean() {
        return mean.dup();
    }

    /** @return column population standard deviations {@code [d]}, zeros included (a copy) */
    public INDArray std() {
        return std.dup();
    }

    /** @return the divisors actually used {@code [d]}: std, or 1 for constant columns (a copy) */
    public INDArray scale() {
        return scale.dup();
    }

    /**
     * @param x features {@code [m, d]}
     * @return new float64 array {@code (x - mean) / scale}
     */
    public INDArray transform(INDArray x) {
        return check(x).subRowVector(mean).diviRowVector(scale);
    }

    /** @return a data set with standardised features and the same targets */
    public Dataset transform(Dataset ds) {
        return ds.withFeatures(transform(ds.x()));
    }

    /**
     * @param z standardised features {@code [m, d]}
     * @return new float64 array {@code z * scale + mean}
     */
    public INDArray inverse(INDArray z) {
        return check(z).mulRowVector(scale).addiRowVector(mean);
    }

    private INDArray check(INDArray x) {
        Objects.requireNonNull(x, "x");
        if (x.rank() != 2 || x.size(1) != mean.length()) {
            throw new IllegalArgumentException("expected features [m, " + mean.length() + "], got shape "
                    + Arrays.toString(x.shape()));
        }
        return x.dataType() == DataType.DOUBLE ? x : x.castTo(DataType.DOUBLE);
    }

    @Override
    public String toString() {
        return "Standardizer[d=" + d() + ", mean=" + Arrays.toString(mean.toDoubleVector()) + ", std="
                + Arrays.toString(std.toDoubleVector()) + "]";
    }
}
