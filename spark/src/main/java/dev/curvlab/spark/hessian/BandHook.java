package dev.curvlab.spark.hessian;

import java.io.Serializable;

/**
 * Called in a band's task after its rows are computed and before they are written (for progress
 * reporting and for tests that make a task fail). Runs on the executor.
 */
@FunctionalInterface
public interface BandHook extends Serializable {
    BandHook NONE = band -> { };

    void beforeWrite(int band) throws Exception;
}
