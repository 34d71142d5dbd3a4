package dev.curvlab.nn.train;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.LayerProducts;
import dev.curvlab.nn.products.ProductEngine;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Minibatch training of a {@link Sequential} model with an {@link Optimizer}.
 *
 * <p><b>One epoch</b> draws a permutation of the n rows from a {@link Random} seeded once per run
 * with {@link TrainingConfig#seed()} (Fisher-Yates, so a run is reproducible), cuts it into
 * consecutive batches {@code B} of {@link TrainingConfig#batchSize()} rows (the last one may be
 * smaller) and for each takes one step {@code theta <- optimizer.step(theta, grad L_B(theta))} with
 * the mean loss on the batch
 * <pre>  L_B(theta) = loss(f(theta, X_B), Y_B) reduced with {@link Reduction#MEAN}.</pre>
 * Rows are gathered with one {@code Nd4j.pullRows} call per batch. In full-batch mode (batch size 0
 * or {@code >= n}) the objective is built once and rows are not permuted.
 *
 * <p><b>Epoch loss and gradient.</b> The epoch loss is the row-weighted mean
 * {@code L_e = sum_B |B| L_B(theta_B) / n} of the batch losses, each at the parameters before that
 * batch's step (it costs nothing extra: value and gradient come from one reverse pass). The epoch
 * gradient norm is {@code || sum_B |B| grad L_B(theta_B) / n ||_2}; in full-batch mode both are the
 * exact loss and gradient norm at the start of the epoch. Early stopping (see {@link TrainingConfig})
 * uses these; the result's {@link TrainingResult#finalLoss()} and
 * {@link TrainingResult#finalGradientNorm()} are evaluated exactly at the final parameters.
 *
 * <p>Progress goes to the slf4j logger {@code dev.curvlab.nn.train.Trainer} at INFO, every
 * {@link TrainingConfig#logEvery()} epochs, e.g.
 * {@code epoch 40/200  loss 0.08310  |grad| 1.2e-3  1250 steps/s  eta 3s}, and once at the end.
 * Intermediate arrays of each step are released as soon as the step ends ({@link ArrayScope}).
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
    private final ProductEngine engine;

    /** A trainer whose gradients come from the layer engine where it applies ({@link ProductEngine#AUTO}). */
    public Trainer() {
        this(ProductEngine.AUTO);
    }

    /** A trainer whose gradients come from the given engine. */
    public Trainer(ProductEngine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    /** Loss and gradient of one evaluation. */
    private record Eval(double loss, INDArray grad) {
    }

    /**
     * Trains from {@code initialTheta} (not modified) and returns the final parameters with the
     * loss history and why training stopped.
     *
     * @param model the network
     * @param loss the loss; targets of {@code data} must suit it (validated per batch by {@link ModelObjective})
     * @param data training data
     * @param initialTheta starting parameters {@code [N]}, copied to float64
     * @param cfg epochs, batching, optimizer, stopping rules, logging
     * @throws IllegalArgumentException if theta or the data do not fit the model or loss
     * @throws IllegalStateException if the loss becomes NaN or infinite (the message names epoch and step)
     */
    public TrainingResult train(Sequential model, Loss loss, Dataset data, INDArray initialTheta, TrainingConfig cfg) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(initialTheta, "initialTheta");
        Objects.requireNonNull(cfg, "cfg");
        long t0 = System.nanoTime();
        long deadline = cfg.maxWallTime() == null ? Long.MAX_VALUE : t0 + cfg.maxWallTime().toNanos();
        model.validate(initialTheta.shape(), data.x().shape());
        INDArray theta = initialTheta.castTo(DataType.DOUBLE).dup('c');
        Batches batches = new Batches(model, loss, data);
        LayerProducts layers = engine.select(model, loss);
        int n = data.n();
        int batch = cfg.fullBatch(n) ? n : cfg.batchSize();
        ModelObjective full = batch == n ? batches.all() : null;
        int[] perm = new int[n];
        Arrays.setAll(perm, i -> i);
        Random rng = new Random(cfg.seed());
        Optimizer opt = cfg.optimizer();
        opt.reset();
        INDArray gradSum = full == null ? Nd4j.zeros(DataType.DOUBLE, theta.length()) : null;
        INDArray gradStep = Nd4j.create(DataType.DOUBLE, theta.length());

        double[] history = new double[cfg.epochs()];
        int epochs = 0;
        long steps = 0;
        int calm = 0;
        StopReason reason = StopReason.MAX_EPOCHS;
        for (int e = 1; e <= cfg.epochs() && reason == StopReason.MAX_EPOCHS; e++) {
            if (full == null) {
                shuffle(perm, rng);
                gradSum.assign(0);
            }
            double lossSum = 0;
            double gradNorm = Double.NaN;
            int seen = 0;
            boolean timeUp = false;
            for (int start = 0; start < n && !timeUp; start += batch) {
                int rows = Math.min(batch, n - start);
                try (ArrayScope scope = ArrayScope.open()) {
                    ModelObjective obj = full != null ? full : batches.of(Arrays.copyOfRange(perm, start, start + rows));
                    Eval ev = evaluate(layers, obj, theta, gradStep);
                    if (!Double.isFinite(ev.loss)) {
                        throw new IllegalStateException(String.format(Locale.ROOT, "training diverged: the %s loss is %s at"
                                + " epoch %d, step %d; try a smaller learning rate than %g (%s)", loss.name(), ev.loss, e,
                                steps + 1, opt.learningRate(), opt));
                    }
                    lossSum += ev.loss * rows;
                    if (full != null) {
                        gradNorm = norm2(ev.grad);
                    } else {
                        Sgd.axpy((double) rows / n, ev.grad, gradSum);
                    }
                    opt.step(theta, ev.grad);
                }
                steps++;
                seen += rows;
                timeUp = System.nanoTime() >= deadline;
            }
            if (full == null) {
                gradNorm = gradSum.norm2Number().doubleValue() * n / seen;
            }
            double epochLoss = lossSum / seen;
            history[e - 1] = epochLoss;
            epochs = e;
            if (cfg.gradientTolerance() > 0 && gradNorm < cfg.gradientTolerance()) {
                reason = StopReason.GRADIENT_SMALL;
            } else if (cfg.lossTolerance() > 0 && e > 1) {
                double prev = history[e - 2];
                double rel = Math.abs(epochLoss - prev) / Math.max(Math.abs(prev), 1e-300);
                calm = rel < cfg.lossTolerance() ? calm + 1 : 0;
                if (calm >= cfg.patience()) {
                    reason = StopReason.LOSS_CONVERGED;
                }
            }
            boolean partial = seen < n;
            if (reason == StopReason.MAX_EPOCHS && (partial || e < cfg.epochs()) && (timeUp || System.nanoTime() >= deadline)) {
                reason = StopReason.TIME_LIMIT;
            }
            if (cfg.logEvery() > 0 && e % cfg.logEvery() == 0 && LOG.isInfoEnabled()) {
                LOG.info(progress(e, cfg.epochs(), epochLoss, gradNorm, steps, System.nanoTime() - t0));
            }
        }
        Eval fin = evaluateAll(layers, batches, full, theta, batch, gradStep);
        Duration wall = Duration.ofNanos(System.nanoTime() - t0);
        if (cfg.logEvery() > 0 && LOG.isInfoEnabled()) {
            LOG.info(String.format(Locale.ROOT, "stopped after %d epochs (%d steps, %s): %s; final loss %.6g  |grad| %s",
                    epochs, steps, duration(wall.toNanos() / 1e9), reason, fin.loss, sci(norm2(fin.grad))));
        }
        return new TrainingResult(theta, Arrays.copyOf(history, epochs), fin.loss, norm2(fin.grad),
                epochs, steps, reason, wall);
    }

    /**
     * Value and gradient in one reverse pass: by the layer engine when given, its gradient written into
     * {@code gradStep} (one buffer for all steps: the step's optimizer update and sums read it before the
     * next step overwrites it); else by the generic engine, intermediates released, the gradient kept.
     */
    private static Eval evaluate(LayerProducts layers, ModelObjective obj, INDArray theta, INDArray gradStep) {
        if (layers != null) {
            double value = layers.gradientInto(obj, theta, gradStep);
            return new Eval(value, gradStep);
        }
        Autodiff.ValueAndGrad vg = Autodiff.valueAndGrad(obj).apply(Tensor.of(theta));
        return new Eval(vg.value().item(), vg.grad().array());
    }

    /** Exact mean loss and gradient on all rows, in chunks of at most {@code chunk} rows. */
    private static Eval evaluateAll(LayerProducts layers, Batches batches, ModelObjective full, INDArray theta, int chunk,
            INDArray gradStep) {
        if (full != null) {
            return evaluate(layers, full, theta, gradStep);
        }
        int n = batches.n;
        INDArray g = Nd4j.zeros(DataType.DOUBLE, theta.length());
        double loss = 0;
        for (int start = 0; start < n; start += chunk) {
            int rows = Math.min(chunk, n - start);
            int[] idx = new int[rows];
            int s = start;
            Arrays.setAll(idx, i -> s + i);
            try (ArrayScope scope = ArrayScope.open()) {
                Eval ev = evaluate(layers, batches.of(idx), theta, gradStep);
                loss += ev.loss * rows / n;
                Sgd.axpy((double) rows / n, ev.grad, g);
            }
        }
        return new Eval(loss, g);
    }

    /**
     * {@code ||g||_2}: one copy and a Java loop for a whole float64 vector (an ND4J reduction costs
     * ~0.1-0.2 ms per call here, as much as a whole Iris step), else ND4J's norm2.
     */
    static double norm2(INDArray g) {
        if (!RawAccess.isWholeDouble(g) || g.length() > Integer.MAX_VALUE) {
            return g.norm2Number().doubleValue();
        }
        double[] v = RawAccess.readAll(g);
        double scale = 0;
        for (double x : v) {
            scale = Math.max(scale, Math.abs(x));
        }
        if (scale == 0 || !Double.isFinite(scale)) {
            return scale == 0 ? 0 : g.norm2Number().doubleValue();
        }
        double s = 0;
        for (double x : v) {
            double r = x / scale;
            s += r * r;
        }
        return scale * Math.sqrt(s);
    }

    private static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Builds minibatch objectives by gathering rows of the data set. */
    private static final class Batches {
        private final Sequential model;
        private final Loss loss;
        private final INDArray x;
        private final INDArray yRows;
        private final boolean classIndices;
        private final int n;

        Batches(Sequential model, Loss loss, Dataset data) {
            this.model = model;
            this.loss = loss;
            this.n = data.n();
            this.x = data.x().rank() == 2 ? data.x() : data.x().reshape('c', new long[] {n, data.d()});   // image models take flat rows too
            this.classIndices = data.y().rank() == 1;
            this.yRows = classIndices ? data.y().reshape('c', new long[] {n, 1}) : data.y();
        }

        ModelObjective all() {
            return new ModelObjective(model, loss, x, classIndices ? yRows.reshape('c', new long[] {n}) : yRows, Reduction.MEAN);
        }

        /** The objective on rows {@code idx}; the gathered arrays are released with the enclosing scope. */
        ModelObjective of(int[] idx) {
            INDArray xb = Nd4j.pullRows(x, 1, idx, 'c');
            INDArray yb = Nd4j.pullRows(yRows, 1, idx, 'c');
            ArrayScope.adopt(xb);
            ArrayScope.adopt(yb);
            return new ModelObjective(model, loss, xb, classIndices ? yb.reshape('c', new long[] {idx.length}) : yb, Reduction.MEAN);
        }
    }

    // ---------------------------------------------------------------- progress lines

    static String progress(int epoch, int epochs, double loss, double gradNorm, long steps, long elapsedNanos) {
        double secs = elapsedNanos / 1e9;
        double rate = secs > 0 ? steps / secs : Double.POSITIVE_INFINITY;
        double eta = secs / epoch * (epochs - epoch);
        return String.format(Locale.ROOT, "epoch %d/%d  loss %.4g  |grad| %s  %.0f steps/s  eta %s", epoch, epochs, loss,
                sci(gradNorm), rate, duration(eta));
    }

    /** {@code 1.2e-3}: one decimal, no exponent padding. */
    static String sci(double v) {
        if (!Double.isFinite(v)) {
            return String.valueOf(v);
        }
        return String.format(Locale.ROOT, "%.1e", v).replace("e-0", "e-").replace("e+0", "e+").replace("e+", "e");
    }

    /** {@code 3s}, {@code 2m05s}, {@code 1h02m}. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
