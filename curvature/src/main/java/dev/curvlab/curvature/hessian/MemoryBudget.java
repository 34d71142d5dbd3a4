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
 * <p>The budget covers what the computation allocates: the result when it is held in memory (or
 * mapped from its output file), the band of rows being written when it is streamed, and the
 * method's working memory (for the structured method one chunk of samples, whose size the plan
 * chooses from the budget and the sample count; for the blocked method one block of columns), with
 * unreachable native arrays freed whenever the computation runs past its plan
 * ({@code NativeGarbage}). It does not cover the JVM's own baseline: the process with ND4J loaded
 * (about 130 MB resident, measured by {@code bench/memory-check.sh}) and the Java heap that short
 * lived Java arrays cycle through (up to the heap the JVM commits at start, by default 1/64 of
 * physical memory; {@code -Xms}/{@code -Xmx} in {@code CURVLAB_JAVA_OPTS} set it). The aim is that
 * a computation accepted under budget B peaks below B plus that baseline; measured peaks still pass
 * it (README, Memory; issue 10, defect 6 is open).
 */
public final class MemoryBudget {
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
