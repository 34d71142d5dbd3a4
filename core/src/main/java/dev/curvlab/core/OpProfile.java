package dev.curvlab.core;

import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-primitive kernel counts and times, for finding where a computation spends its time. Enabled
 * with {@code -Dcurvlab.profile=true} (off by default: then it costs one branch per operation).
 */
public final class OpProfile {
    static final boolean ENABLED = Boolean.getBoolean("curvlab.profile");
    private static final Map<String, long[]> STATS = new TreeMap<>();

    private OpProfile() {
    }

    static synchronized void record(String name, INDArray[] args, long nanos) {
        StringBuilder key = new StringBuilder(name);
        for (INDArray a : args) {
            key.append(' ').append(java.util.Arrays.toString(a.shape()));
        }
        long[] s = STATS.computeIfAbsent(key.toString(), k -> new long[2]);
        s[0]++;
        s[1] += nanos;
    }

    /** Clears the counters. */
    public static synchronized void reset() {
        STATS.clear();
    }

    /** One line per primitive and operand shapes: calls, total ms, microseconds per call; slowest first. */
    public static synchronized String report() {
        StringBuilder sb = new StringBuilder();
        STATS.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1])).forEach(e ->
                sb.append(String.format("%8d calls %10.2f ms %9.1f us  %s%n", e.getValue()[0], e.getValue()[1] / 1e6,
                        e.getValue()[1] / 1e3 / e.getValue()[0], e.getKey())));
        return sb.toString();
    }
}
