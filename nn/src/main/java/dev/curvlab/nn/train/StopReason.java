package dev.curvlab.nn.train;

/** Why {@link Trainer#train} stopped. */
public enum StopReason {
    /** All {@link TrainingConfig#epochs()} epochs ran. */
    MAX_EPOCHS,
    /** The relative change of the epoch loss stayed below {@link TrainingConfig#lossTolerance()} for {@link TrainingConfig#patience()} epochs in a row. */
    LOSS_CONVERGED,
    /** The epoch gradient norm fell below {@link TrainingConfig#gradientTolerance()}. */
    GRADIENT_SMALL,
    /** {@link TrainingConfig#maxWallTime()} elapsed. */
    TIME_LIMIT
}
