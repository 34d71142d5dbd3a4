package dev.curvlab.curvature.progress;

/** Receives progress of long computations (full Hessians, estimators). Called from the computing thread. */
@FunctionalInterface
public interface ProgressListener {
    /** {@code done} of {@code total} units of {@code task} (e.g. Hessian columns) are complete. */
    void progress(String task, long done, long total);

    /** A listener that ignores everything. */
    ProgressListener NONE = (task, done, total) -> { };
}
