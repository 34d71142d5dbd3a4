package dev.curvlab.nn.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A supervised data set: features {@code x} of shape {@code [n, d]} (or images {@code [n, C, H, W]},
 * then {@code d = C H W}) and targets {@code y}, either
 * real-valued of shape {@code [n, k]} or class indices of shape {@code [n]} (values
 * {@code 0, 1, ..., numClasses-1}, stored as float64). Both arrays are float64
 * ({@link DataType#DOUBLE}) and C order.
 *
 * <p><b>Validation</b> (constructor): {@code x} has rank 2, {@code y} rank 1 or 2, both have the
 * same number of rows {@code n >= 1}, neither contains NaN or infinity (the error names the first
 * offending row and column, found with one vectorised ND4J search), and rank-1 targets are
 * non-negative integers.
 *
 * <p><b>Immutability:</b> the constructor copies its inputs (converting them to float64), so later
 * changes to the caller's arrays do not leak in. {@link #x()} and {@link #y()} return the internal
 * arrays without copying (they may be large); treat them as read-only and {@code dup()} them
 * before modifying anything in place. All derived data sets ({@link #subset}, {@link #split}) are
 * new copies.
 */
public final class Dataset {

    private final INDArray x;
    private final INDArray y;

    /**
     * @param x features {@code [n, d]}, any floating or integer dtype (copied to float64)
     * @param y targets {@code [n, k]}, or class indices {@code [n]} (copied to float64)
     * @throws IllegalArgumentException if shapes disagree or values are invalid (see class doc)
     */
    public Dataset(INDArray x, INDArray y) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        if (x.rank() != 2 && x.rank() != 4) {
            throw new IllegalArgumentException("features x must have rank 2 [n, d] or rank 4 (images [n, C, H, W]), got shape " + Arrays.toString(x.shape()));
        }
        if (y.rank() != 1 && y.rank() != 2) {
            throw new IllegalArgumentException("targets y must be [n, k] or class indices [n], got shape "
                    + Arrays.toString(y.shape()));
        }
        if (x.size(0) != y.size(0)) {
            throw new IllegalArgumentException("x has " + x.size(0) + " rows but y has " + y.size(0));
        }
        if (x.size(0) < 1 || x.size(0) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a dataset needs between 1 and " + (Integer.MAX_VALUE - 8)
                    + " rows, got " + x.size(0));
        }
        this.x = copy(x);
        this.y = copy(y);
        checkFinite(this.x, "features x");
        checkFinite(this.y, "targets y");
        if (this.y.rank() == 1) {
            checkClassIndices(this.y);
        }
    }

    private static INDArray copy(INDArray a) {
        return (a.dataType() == DataType.DOUBLE ? a : a.castTo(DataType.DOUBLE)).dup('c');
    }

    /** Throws naming the first non-finite entry; {@code a} must be C order. */
    private static void checkFinite(INDArray a, String what) {
        if (a.isEmpty()) {
            return;
        }
        long first = BooleanIndexing.firstIndex(a, Conditions.notFinite()).getLong(0);
        if (first >= 0) {
            throw new IllegalArgumentException(what + " contain a non-finite value (" + a.data().getDouble(first)
                    + ") at " + position(a, first));
        }
    }

    private static void checkClassIndices(INDArray y) {
        long neg = BooleanIndexing.firstIndex(y, Conditions.lessThan(0)).getLong(0);
        INDArray frac = y.sub(Transforms.floor(y, true));
        long nonInt = BooleanIndexing.firstIndex(frac, Conditions.notEquals(0)).getLong(0);
        long first = neg < 0 ? nonInt : nonInt < 0 ? neg : Math.min(neg, nonInt);
        if (first >= 0) {
            throw new IllegalArgumentException("rank-1 targets y must be class indices (non-negative integers), but"
                    + " row " + first + " has " + y.getDouble(first) + "; use a [n, 1] array for real-valued targets");
        }
    }

    private static String position(INDArray a, long linear) {
        if (a.rank() == 1) {
            return "row " + linear;
        }
        long cols = a.length() / a.size(0);
        return "row " + linear / cols + (a.rank() == 2 ? ", column " : ", feature ") + linear % cols;
    }

    /** @return features {@code [n, d]} float64 (internal array: do not modify) */
    public INDArray x() {
        return x;
    }

    /** @return targets {@code [n, k]} or class indices {@code [n]}, float64 (internal array: do not modify) */
    public INDArray y() {
        return y;
    }

    /** @return number of examples (rows) */
    public int n() {
        return (int) x.size(0);
    }

    /** @return number of features per sample (columns of x; {@code C H W} for images) */
    public int d() {
        return (int) (x.length() / x.size(0));
    }

    /** @return the shape of one sample: {@code [d]} or {@code [C, H, W]} */
    public long[] sampleShape() {
        return Arrays.copyOfRange(x.shape(), 1, x.rank());
    }

    /** @return whether the features are images {@code [n, C, H, W]} */
    public boolean hasImages() {
        return x.rank() == 4;
    }

    /**
     * Rows {@code [start, end)} as a new data set (features keep their rank).
     */
    public Dataset rows(int start, int end) {
        if (start < 0 || end > n() || start >= end) {
            throw new IndexOutOfBoundsException("rows [" + start + ", " + end + ") outside [0, " + n() + ")");
        }
        int[] idx = new int[end - start];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = start + i;
        }
        return subset(idx);
    }

    /** @return number of target columns: {@code k} for {@code [n, k]} targets, 1 for class indices */
    public int k() {
        return y.rank() == 1 ? 1 : (int) y.size(1);
    }

    /** @return whether the targets are class indices of shape {@code [n]} */
    public boolean hasClassIndices() {
        return y.rank() == 1;
    }

    /**
     * @return {@code 1 + max class index}
     * @throws IllegalStateException if the targets are not class indices
     */
    public int numClasses() {
        if (!hasClassIndices()) {
            throw new IllegalStateException("targets are real-valued [n, k], not class indices");
        }
        return (int) y.maxNumber().doubleValue() + 1;
    }

    /**
     * A new data set with the same targets and different features.
     *
     * @param newX features {@code [n, d']} with the same {@code n}
     */
    public Dataset withFeatures(INDArray newX) {
        return new Dataset(newX, y);
    }

    /**
     * The rows {@code rows[0], rows[1], ...} in that order (duplicates allowed), as a new data set.
     *
     * @param rows non-empty, each in {@code [0, n)}
     */
    public Dataset subset(int[] rows) {
        Objects.requireNonNull(rows, "rows");
        if (rows.length == 0) {
            throw new IllegalArgumentException("subset needs at least one row");
        }
        int n = n();
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= n) {
                throw new IndexOutOfBoundsException("rows[" + i + "] = " + rows[i] + " is outside [0, " + n + ")");
            }
        }
        INDArray xs = Nd4j.pullRows(x.reshape('c', new long[] {n, d()}), 1, rows, 'c');
        if (x.rank() != 2) {
            xs = xs.reshape('c', withRows(rows.length));
        }
        INDArray ys = y.rank() == 1
                ? Nd4j.pullRows(y.reshape('c', new long[] {n, 1}), 1, rows, 'c').reshape('c', new long[] {rows.length})
                : Nd4j.pullRows(y, 1, rows, 'c');
        return new Dataset(xs, ys);
    }

    private long[] withRows(long rows) {
        long[] s = x.shape().clone();     // ND4J hands out its own shape array
        s[0] = rows;
        return s;
    }

    /**
     * Shuffles the rows with a seeded {@link Random} (Fisher-Yates, so the split depends only on
     * {@code n} and {@code seed}) and splits them into train and test parts.
     *
     * @param trainFraction fraction of rows for training, strictly between 0 and 1; the train size is
     *     {@code round(trainFraction * n)} clamped to {@code [1, n-1]}
     * @param seed random seed
     * @return the two parts; both non-empty, together a permutation of this data set
     * @throws IllegalArgumentException if the fraction is out of range or {@code n < 2}
     */
    public Split split(double trainFraction, long seed) {
        if (!(trainFraction > 0 && trainFraction < 1)) {
            throw new IllegalArgumentException("trainFraction must be in (0, 1), got " + trainFraction);
        }
        int n = n();
        if (n < 2) {
            throw new IllegalArgumentException("cannot split a dataset with " + n + " row");
        }
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        Random rnd = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int nTrain = (int) Math.max(1, Math.min(n - 1, Math.round(trainFraction * n)));
        return new Split(subset(Arrays.copyOfRange(perm, 0, nTrain)), subset(Arrays.copyOfRange(perm, nTrain, n)));
    }

    /**
     * A train/test pair produced by {@link Dataset#split(double, long)}.
     *
     * @param train training part
     * @param test test part
     */
    public record Split(Dataset train, Dataset test) {
    }

    @Override
    public String toString() {
        return "Dataset[n=" + n() + ", " + (hasImages() ? "images " + Arrays.toString(sampleShape()) : "d=" + d()) + ", y=" + (hasClassIndices()
                ? "class indices, " + numClasses() + " classes" : Arrays.toString(y.shape())) + "]";
    }
}
