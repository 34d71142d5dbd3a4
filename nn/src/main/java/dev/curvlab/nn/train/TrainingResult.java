package dev.curvlab.nn.train;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The outcome of {@link Trainer#train}.
 *
 * @param theta final parameters, float64 {@code [N]} (a new array, not the caller's initial one)
 * @param lossHistory the loss of every epoch run, in order (length {@link #epochs()}); see {@link Trainer}
 * @param finalLoss the mean loss on the whole training set at {@code theta}
 * @param finalGradientNorm {@code ||grad L(theta)||_2} of the mean loss on the whole training set
 * @param epochs number of epochs run (the last one may be partial when the time limit hit)
 * @param steps number of optimizer steps taken
 * @param stopReason why training stopped
 * @param wallTime time spent in {@link Trainer#train}
 */
public record TrainingResult(INDArray theta, double[] lossHistory, double finalLoss, double finalGradientNorm,
        int epochs, long steps, StopReason stopReason, Duration wallTime) {

    public TrainingResult {
        lossHistory = lossHistory.clone();
    }

    /** The per-epoch losses (a copy). */
    @Override
    public double[] lossHistory() {
        return lossHistory.clone();
    }

    /** The loss of the last epoch run ({@code NaN} if none). */
    public double lastEpochLoss() {
        return lossHistory.length == 0 ? Double.NaN : lossHistory[lossHistory.length - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingResult r && theta.equals(r.theta) && Arrays.equals(lossHistory, r.lossHistory)
                && Double.compare(finalLoss, r.finalLoss) == 0 && Double.compare(finalGradientNorm, r.finalGradientNorm) == 0
                && epochs == r.epochs && steps == r.steps && stopReason == r.stopReason && wallTime.equals(r.wallTime);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(lossHistory) * 31 + Long.hashCode(steps) * 7 + stopReason.hashCode();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TrainingResult(%s after %d epochs / %d steps, loss %.6g, |grad| %.3g, %.2fs, N=%d)",
                stopReason, epochs, steps, finalLoss, finalGradientNorm, wallTime.toNanos() / 1e9, theta.length());
    }
}
