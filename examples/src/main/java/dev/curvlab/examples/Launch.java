package dev.curvlab.examples;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Process settings every example applies first, before ND4J loads. */
final class Launch {
    private Launch() {
    }

    /** Native memory accounting off (it reads /proc on every allocation), float64 defaults, headless plots, native threads and memory reuse. */
    static void configure() {
        System.setProperty("org.bytedeco.javacpp.maxphysicalbytes", "0");
        System.setProperty("org.bytedeco.javacpp.maxbytes", "0");
        System.setProperty("java.awt.headless", "true");
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        dev.curvlab.core.NativeSettings.recommended();
    }
}
