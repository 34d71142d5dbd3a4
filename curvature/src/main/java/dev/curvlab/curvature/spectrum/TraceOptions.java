package dev.curvlab.curvature.spectrum;

import dev.curvlab.curvature.progress.ProgressListener;

/**
 * Options of the randomized estimators {@link TraceEstimator} and {@link DiagonalEstimator}; start
 * from {@link #defaults()} and change fields with the {@code with*} methods.
 *
 * @param maxSamples the most probe vectors (Hutch++: the total operator-product budget, of which
 *        two thirds go to the sketch); default 256
 * @param minSamples probes always drawn before the stop rule may stop (capped at maxSamples); default 32
 * @param relTol stop once {@code standardError <= relTol * |estimate|} (diagonal: the largest
 *        per-entry standard error against the largest |entry|); 0 never stops early; default 1e-2
 * @param blockSize probe columns per operator product {@code A V}, {@code V [N, blockSize]}; default 16
 * @param seed seed of the Rademacher probes
 * @param progress receives {@code (task, probes done, maxSamples)}
 */
public record TraceOptions(int maxSamples, int minSamples, double relTol, int blockSize, long seed, ProgressListener progress) {
    public TraceOptions {
        if (maxSamples < 1) {
            throw new IllegalArgumentException("TraceOptions: maxSamples must be >= 1, got " + maxSamples);
        }
        if (minSamples < 0) {
            throw new IllegalArgumentException("TraceOptions: minSamples must be >= 0, got " + minSamples);
        }
        if (!(relTol >= 0) || !Double.isFinite(relTol)) {
            throw new IllegalArgumentException("TraceOptions: relTol must be finite and >= 0, got " + relTol);
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("TraceOptions: blockSize must be >= 1, got " + blockSize);
        }
        if (progress == null) {
            progress = ProgressListener.NONE;
        }
    }

    /**
     * Exactly {@code samples} probes (Hutch++: products), no early stop ({@code relTol = 0}), blocks of 16.
     */
    public TraceOptions(int samples, long seed, ProgressListener progress) {
        this(samples, samples, 0.0, 16, seed, progress);
    }

    /** 256 samples at most, at least 32, relTol 1e-2, blocks of 16, seed 0, no progress. */
    public static TraceOptions defaults() {
        return new TraceOptions(256, 32, 1e-2, 16, 0L, ProgressListener.NONE);
    }

    public TraceOptions withMaxSamples(int value) {
        return new TraceOptions(value, minSamples, relTol, blockSize, seed, progress);
    }

    public TraceOptions withMinSamples(int value) {
        return new TraceOptions(maxSamples, value, relTol, blockSize, seed, progress);
    }

    public TraceOptions withRelTol(double value) {
        return new TraceOptions(maxSamples, minSamples, value, blockSize, seed, progress);
    }

    public TraceOptions withBlockSize(int value) {
        return new TraceOptions(maxSamples, minSamples, relTol, value, seed, progress);
    }

    public TraceOptions withSeed(long value) {
        return new TraceOptions(maxSamples, minSamples, relTol, blockSize, value, progress);
    }

    public TraceOptions withProgress(ProgressListener value) {
        return new TraceOptions(maxSamples, minSamples, relTol, blockSize, seed, value);
    }
}
