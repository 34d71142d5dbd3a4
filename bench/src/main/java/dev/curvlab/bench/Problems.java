package dev.curvlab.bench;

import dev.curvlab.core.Ops;
import dev.curvlab.core.Tensor;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The reference problems of {@code shared/anchors/torch_anchor.py} (same shapes, losses and data
 * distributions; seeded {@link Random} instead of torch's generator, so values differ), plus the
 * larger networks of the scaling report. Everything is float64.
 */
public final class Problems {
    static {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        // BLAS on all cores, elementwise kernels on one thread, freed native memory reused (see NativeSettings)
        dev.curvlab.core.NativeSettings.recommended();
    }

    /** Seed of every generated array. */
    public static final long SEED = 42;

    private Problems() {
    }

    /** An MLP (tanh hidden layers) with its loss and batch size. */
    public record Mlp(String name, int[] sizes, Loss loss, int batch) {
        /** N: weights and biases of all layers. */
        public long parameters() {
            long n = 0;
            for (int i = 1; i < sizes.length; i++) {
                n += (long) sizes[i - 1] * sizes[i] + sizes[i];
            }
            return n;
        }

        public String architecture() {
            return Arrays.stream(sizes).mapToObj(Integer::toString).collect(Collectors.joining("-"));
        }

        /** The model, a seeded batch (x randn; mse targets randn, ce targets uniform class indices) and seeded parameters. */
        public Instance build() {
            Random rnd = new Random(SEED);
            Sequential model = Sequential.mlp(sizes, Activation.TANH);
            INDArray x = gaussian(rnd, batch, sizes[0], 1.0);
            int out = sizes[sizes.length - 1];
            INDArray y;
            if (loss == Losses.CROSS_ENTROPY) {
                double[] cls = new double[batch];
                for (int i = 0; i < batch; i++) {
                    cls[i] = rnd.nextInt(out);
                }
                y = Nd4j.create(cls, new long[] {batch}, DataType.DOUBLE);
            } else {
                y = gaussian(rnd, batch, out, 1.0);
            }
            return new Instance(this, model, new Dataset(x, y), model.initialParameters(SEED));
        }

        @Override
        public String toString() {
            return name + " " + architecture() + " tanh " + loss.name() + " batch " + batch + " (N=" + parameters() + ")";
        }
    }

    /** A built problem: model, data and parameters theta {@code [N]}. */
    public record Instance(Mlp problem, Sequential model, Dataset data, INDArray theta) {
    }

    /** MLP 10-32-32-1, mse, batch 128: N = 1441 (the anchor's mlp-small). */
    public static final Mlp SMALL = new Mlp("small", new int[] {10, 32, 32, 1}, Losses.MSE, 128);
    /** MLP 20-64-64-3, cross-entropy, batch 256: N = 5699 (the anchor's mlp-medium). */
    public static final Mlp MEDIUM = new Mlp("medium", new int[] {20, 64, 64, 3}, Losses.CROSS_ENTROPY, 256);
    /** MLP 50-128-128-10, cross-entropy, batch 512: N = 24,330 (H is 4.7 GB). */
    public static final Mlp LARGE = new Mlp("large", new int[] {50, 128, 128, 10}, Losses.CROSS_ENTROPY, 512);

    /** The scaling report's architectures, N from 1,441 to 28,458, in increasing N. */
    public static final List<Mlp> SCALING = List.of(
            SMALL,
            new Mlp("s3k", new int[] {16, 48, 48, 4}, Losses.CROSS_ENTROPY, 256),
            MEDIUM,
            new Mlp("m13k", new int[] {32, 96, 96, 10}, Losses.CROSS_ENTROPY, 256),
            LARGE,
            new Mlp("l28k", new int[] {40, 160, 128, 10}, Losses.CROSS_ENTROPY, 512));

    /**
     * {@code "small"}, {@code "medium"}, {@code "large"}, or a spec {@code SIZES:LOSS:SAMPLES} such as
     * {@code 20-64-64-10:ce:2000} (tanh hidden layers; loss mse or ce).
     */
    public static Mlp named(String name) {
        return switch (name) {
            case "small" -> SMALL;
            case "medium" -> MEDIUM;
            case "large" -> LARGE;
            default -> spec(name);
        };
    }

    private static Mlp spec(String name) {
        String[] parts = name.split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException("unknown problem '" + name + "' (small, medium, large, or SIZES:LOSS:SAMPLES like 20-64-64-10:ce:2000)");
        }
        int[] sizes = Arrays.stream(parts[0].split("-")).mapToInt(Integer::parseInt).toArray();
        return new Mlp(name, sizes, Losses.parse(parts[1]), Integer.parseInt(parts[2]));
    }

    /** The seed's {@code func_f4}: R^3 -> R^4, {@code (x0, 5 x2, 4 x1^2 - 2 x2, x2 sin x0)} row-wise. */
    public static Tensor f4(Tensor x) {
        return Ops.hstack(x.col(0), x.col(2).mul(5), x.col(1).square().mul(4).sub(x.col(2).mul(2)), x.col(2).mul(x.col(0).sin()));
    }

    /** The seed's Hessian test function {@code sin(x0 x1 x2)} row-wise: R^3 -> R. */
    public static Tensor sinProduct(Tensor x) {
        return x.col(0).mul(x.col(1)).mul(x.col(2)).sin();
    }

    /** {@code [rows, cols]} float64 with entries {@code scale * N(0, 1)}. */
    public static INDArray gaussian(Random rnd, int rows, int cols, double scale) {
        double[] v = new double[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = scale * rnd.nextGaussian();
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.DOUBLE);
    }

    /** {@code [rows, cols]} float64 uniform on [0, 1) (torch.rand). */
    public static INDArray uniform(Random rnd, int rows, int cols) {
        double[] v = new double[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextDouble();
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.DOUBLE);
    }

    /**
     * Logistic regression as in the anchor: X randn {@code [n, d]}, w_true randn/5,
     * y ~ Bernoulli(sigmoid(X w_true)); the model is one dense layer d-1 (identity, bias 0), so
     * theta = [w_true, 0] and N = d + 1.
     */
    public record LogisticRegression(Sequential model, Dataset data, INDArray theta) {
        public static LogisticRegression of(int d, int n) {
            Random rnd = new Random(SEED);
            INDArray x = gaussian(rnd, n, d, 1.0);
            INDArray w = gaussian(rnd, d, 1, 0.2);
            double[] p = x.mmul(w).transpose().dup('c').data().asDouble();
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                y[i] = rnd.nextDouble() < 1 / (1 + Math.exp(-p[i])) ? 1 : 0;
            }
            Sequential model = Sequential.mlp(new int[] {d, 1}, Activation.IDENTITY);
            INDArray theta = Nd4j.concat(0, w.reshape(d), Nd4j.zeros(DataType.DOUBLE, 1));
            return new LogisticRegression(model, new Dataset(x, Nd4j.create(y, new long[] {n, 1}, DataType.DOUBLE)), theta);
        }

        /** The closed form {@code X1^T diag(p (1 - p)) X1} with {@code X1 = [X, 1]} (the bias column), {@code [d+1, d+1]}. */
        public INDArray closedFormFisher() {
            INDArray x = data.x();
            INDArray x1 = Nd4j.hstack(x, Nd4j.ones(DataType.DOUBLE, x.size(0), 1));
            INDArray z = x1.mmul(theta.reshape(theta.length(), 1));
            INDArray p = org.nd4j.linalg.ops.transforms.Transforms.sigmoid(z, true);
            INDArray weight = p.mul(p.rsub(1.0));
            return x1.transpose().mmul(x1.mulColumnVector(weight));
        }
    }

    /** Frees an array's native buffer now (its base buffer, so views of results work too), as a user loop would. */
    public static void release(INDArray a) {
        if (a == null) {
            return;
        }
        DataBuffer d = a.data();
        DataBuffer base = d.originalDataBuffer() != null ? d.originalDataBuffer() : d;
        if (!base.wasClosed() && base.closeable()) {
            base.close();
        }
    }
}
