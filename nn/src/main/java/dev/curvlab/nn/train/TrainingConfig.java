package dev.curvlab.nn.train;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings for {@link Trainer#train}. Build with {@link #builder()}; the record constructor
 * validates every field.
 *
 * <p><b>Early stopping.</b> Let {@code L_e} be the loss of epoch e (see {@link Trainer}). Training
 * stops with {@link StopReason#LOSS_CONVERGED} after {@code patience} consecutive epochs with
 * {@code |L_e - L_{e-1}| / max(|L_{e-1}|, 1e-300) < lossTolerance}, and with
 * {@link StopReason#GRADIENT_SMALL} as soon as the epoch gradient norm is below
 * {@code gradientTolerance}. A tolerance of 0 disables its test.
 *
 * @param epochs maximum number of passes over the data, {@code >= 1}
 * @param batchSize rows per minibatch; 0 or {@code >= n} means full batch (one step per epoch)
 * @param seed seed of the per-epoch row permutations (the same seed gives the same run)
 * @param optimizer the update rule; {@link Trainer#train} calls {@link Optimizer#reset()} first, so
 *     a config can be reused for consecutive (not concurrent) runs
 * @param lossTolerance relative loss change below which an epoch counts as converged, {@code >= 0}
 * @param patience converged epochs in a row needed to stop, {@code >= 1}
 * @param gradientTolerance gradient norm below which training stops, {@code >= 0}
 * @param logEvery log a progress line every this many epochs (and at the end); 0 = never
 * @param maxWallTime stop once this much time has elapsed (checked after every step); null = no limit
 */
public record TrainingConfig(int epochs, int batchSize, long seed, Optimizer optimizer, double lossTolerance,
        int patience, double gradientTolerance, int logEvery, Duration maxWallTime) {

    public TrainingConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (batchSize < 0) {
            throw new IllegalArgumentException("batch size must be >= 0 (0 = full batch), got " + batchSize);
        }
        Objects.requireNonNull(optimizer, "optimizer");
        if (!(lossTolerance >= 0) || !Double.isFinite(lossTolerance)) {
            throw new IllegalArgumentException("loss tolerance must be finite and >= 0, got " + lossTolerance);
        }
        if (patience < 1) {
            throw new IllegalArgumentException("patience must be >= 1, got " + patience);
        }
        if (!(gradientTolerance >= 0) || !Double.isFinite(gradientTolerance)) {
            throw new IllegalArgumentException("gradient tolerance must be finite and >= 0, got " + gradientTolerance);
        }
        if (logEvery < 0) {
            throw new IllegalArgumentException("logEvery must be >= 0 (0 = never), got " + logEvery);
        }
        if (maxWallTime != null && (maxWallTime.isNegative() || maxWallTime.isZero())) {
            throw new IllegalArgumentException("max wall time must be positive, got " + maxWallTime);
        }
    }

    /** Whether training uses the whole data set in every step for {@code n} rows. */
    public boolean fullBatch(int n) {
        return batchSize == 0 || batchSize >= n;
    }

    /**
     * A builder with defaults: 100 epochs, full batch, seed 0, {@code new Adam(1e-3)}, no loss or
     * gradient test (tolerances 0, patience 5), a log line every 10 epochs, no time limit.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.seed = seed;
        b.optimizer = optimizer;
        b.lossTolerance = lossTolerance;
        b.patience = patience;
        b.gradientTolerance = gradientTolerance;
        b.logEvery = logEvery;
        b.maxWallTime = maxWallTime;
        return b;
    }

    /** Fluent builder; {@link #build()} validates. */
    public static final class Builder {
        private int epochs = 100;
        private int batchSize;
        private long seed;
        private Optimizer optimizer;
        private double lossTolerance;
        private int patience = 5;
        private double gradientTolerance;
        private int logEvery = 10;
        private Duration maxWallTime;

        private Builder() {
        }

        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /** Rows per minibatch; 0 (the default) = full batch. */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder fullBatch() {
            this.batchSize = 0;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /** Stop once the relative epoch-loss change is below {@code tolerance} for {@code patience} epochs in a row. */
        public Builder lossTolerance(double tolerance, int patience) {
            this.lossTolerance = tolerance;
            this.patience = patience;
            return this;
        }

        /** Stop once the epoch gradient norm is below {@code tolerance}. */
        public Builder gradientTolerance(double tolerance) {
            this.gradientTolerance = tolerance;
            return this;
        }

        /** A progress line every {@code epochs} epochs; 0 = silent. */
        public Builder logEvery(int epochs) {
            this.logEvery = epochs;
            return this;
        }

        /** Stop after this much wall time; null = no limit. */
        public Builder maxWallTime(Duration maxWallTime) {
            this.maxWallTime = maxWallTime;
            return this;
        }

        public TrainingConfig build() {
            return new TrainingConfig(epochs, batchSize, seed, optimizer != null ? optimizer : new Adam(1e-3),
                    lossTolerance, patience, gradientTolerance, logEvery, maxWallTime);
        }
    }
}
