package dev.curvlab.curvature.hessian;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How much memory a computation may use, and the preflight check that refuses work that cannot
 * fit before any of it starts. The default budget is 75% of the machine's physical memory (ND4J
 * arrays live outside the Java heap); override it with {@code --max-memory} / {@link #of(long)}.
 *
 * <p>The rule, checked case by case by {@code bench/memory-check.sh}: a computation accepted under
 * budget B peaks at most at B plus the JVM baseline, the resident size of the same command on a tiny
 * model (the JVM with ND4J and OpenBLAS loaded, about 130 MB here). The budget covers
 * <ul>
 * <li>the result when it is held in memory or mapped from its output file (N^2 x 8 bytes), or the
 *     band of rows being written when it is streamed;</li>
 * <li>the method's working memory (the structured method's chunk of samples, chosen by the plan from
 *     what is left; the blocked method's block of columns);</li>
 * <li>{@link #RUNTIME_RESERVE} for what the running JVM adds to the baseline: the Java heap in use,
 *     compiled code, native garbage not yet collected.</li>
 * </ul>
 * The methods keep to it by closing their temporaries, reusing their Java staging arrays (fresh ones
 * grew the heap by hundreds of MB) and collecting native garbage when the process grows past the plan
 * ({@code NativeGarbage}).
 */
public final class MemoryBudget {
    /**
     * What a running computation's JVM adds to the baseline, taken from every budget before the
     * result and working memory: 128 MB. Measured with {@code bench/memory-check.sh} (issue 10's
     * cases): the resident size when the method starts exceeds the tiny model's peak by 20-70 MB
     * (Java heap in use, compiled code, the loaded data), and native garbage grows by up to
     * {@code NativeGarbage.STEP} plus one chunk's or block's temporaries before it is collected;
     * with 96 MB the tightest case kept only 23 MB of room.
     */
    public static final long RUNTIME_RESERVE = 128L << 20;

    private final long bytes;

    private MemoryBudget(long bytes) {
        this.bytes = bytes;
    }

    public static MemoryBudget of(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("memory budget must be positive, got " + bytes);
        }
        return new MemoryBudget(bytes);
    }

    /** 75% of physical memory. */
    public static MemoryBudget defaultBudget() {
        long total = 8L << 30;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            total = os.getTotalMemorySize();
        }
        return new MemoryBudget(total / 4 * 3);
    }

    /** Parses {@code 512M}, {@code 12G}, {@code 2.5g}, {@code 1000000} (bytes). */
    public static MemoryBudget parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace("B", "");
        double mult = 1;
        if (t.endsWith("K")) {
            mult = 1L << 10;
        } else if (t.endsWith("M")) {
            mult = 1L << 20;
        } else if (t.endsWith("G")) {
            mult = 1L << 30;
        } else if (t.endsWith("T")) {
            mult = 1L << 40;
        }
        String num = Character.isDigit(t.charAt(t.length() - 1)) ? t : t.substring(0, t.length() - 1);
        try {
            return of((long) (Double.parseDouble(num) * mult));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cannot read memory size '" + text + "' (examples: 512M, 12G)");
        }
    }

    public long bytes() {
        return bytes;
    }

    /** {@code 1.5 GB}, {@code 830 MB}. */
    public static String format(double bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GB", bytes / (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.0f MB", bytes / (1L << 20));
        }
        return String.format(Locale.ROOT, "%.0f KB", bytes / 1024.0);
    }

    /** Free space on the file system holding {@code path} (or its nearest existing parent). */
    public static long usableDisk(Path path) {
        Path p = path.toAbsolutePath();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        try {
            return p == null ? Long.MAX_VALUE : Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }
}
