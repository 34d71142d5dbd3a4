package dev.curvlab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.reflect.Method;
import java.util.List;
import org.bytedeco.javacpp.Pointer;

/**
 * Resident memory of this process and of the machine, from Linux {@code /proc} (ND4J arrays live
 * outside the Java heap, so the JVM's own counters miss them). Every reading is -1 where
 * {@code /proc} is unavailable.
 */
final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private ProcessMemory() {
    }

    /** Current resident set size (VmRSS), bytes. */
    static long rss() {
        return field(STATUS, "VmRSS:");
    }

    /** Peak resident set size (VmHWM) since start or since the last {@link #resetPeak}, bytes. */
    static long peak() {
        return field(STATUS, "VmHWM:");
    }

    /**
     * Resets VmHWM to the current VmRSS (writes 5 to /proc/self/clear_refs, Linux 4.0+).
     *
     * @return false when the kernel refused, in which case {@link #peak} stays the lifetime peak
     */
    static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /**
     * Brings VmRSS down to what is live: collects garbage, waits for ND4J's deallocator thread to free
     * the native buffers of collected arrays, then trims the C heap ({@link #trim}).
     */
    static void settle() {
        for (int i = 0; i < 2; i++) {
            System.gc();
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        trim();
    }

    /**
     * Returns freed native memory to the OS ({@code malloc_trim(0)} through JavaCPP's
     * {@code Pointer.trimMemory}, private in JavaCPP 1.5.7, hence reflection), so that VmRSS after it
     * is a clean baseline. Does nothing where that is not possible.
     */
    static void trim() {
        try {
            Method m = Pointer.class.getDeclaredMethod("trimMemory");
            m.setAccessible(true);
            m.invoke(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            // leave RSS as it is
        }
    }

    /** MemAvailable of the machine, bytes. */
    static long available() {
        return field(MEMINFO, "MemAvailable:");
    }

    /** The 1-minute load average, or NaN. */
    static double load() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** A {@code "Name:   1234 kB"} line of a /proc file, in bytes. */
    private static long field(Path file, String name) {
        try {
            List<String> lines = Files.readAllLines(file);
            for (String line : lines) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * (parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? 1024 : 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
