package dev.curvlab.curvature.cli;

import dev.curvlab.core.NativeSettings;
import dev.curvlab.nn.io.NpyFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Base of the subcommands: checks option values ({@link #checkOptions}, usage errors, before any
 * file is read), applies the runtime options (float64 defaults, threads, quiet logging), then runs
 * the command. Commands validate all inputs before the work starts and write outputs only at the
 * end (atomically), so a failed run leaves no output file. Failures propagate as exceptions to
 * {@link ErrorReporter}; nothing here exits the JVM.
 */
abstract class CurvlabSubcommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RuntimeOptions runtime;

    @Override
    public final Integer call() throws Exception {
        if (runtime.threads < 0) {
            throw usage("--threads must be >= 1, or 0 for ND4J's default; got " + runtime.threads);
        }
        checkOptions();
        try (QuietLogging quiet = QuietLogging.enter(runtime.quiet)) {
            NativeWarmUp.await();
            Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
            NativeSettings.retainFreedMemory();
            int blas = runtime.threads > 0 ? runtime.threads : Runtime.getRuntime().availableProcessors();
            NativeSettings.threads(blas, 1);
            run();
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("out of memory (" + e.getMessage() + "); lower --batch-size or --block, or raise -Xmx", e);
        } catch (LinkageError e) {
            // e.g. the ND4J native backend failing to load (first seen by the warm-up thread): one line, with the cause
            Throwable first = NativeWarmUp.failure() != null ? NativeWarmUp.failure() : e;
            Throwable cause = first.getCause() != null ? first.getCause() : e.getCause();
            throw new IllegalStateException(first.getClass().getSimpleName() + ": " + first.getMessage()
                    + (cause != null ? " (" + cause + ")" : ""), e);
        } finally {
            out().flush();
        }
        return 0;
    }

    /** Checks option values that need no file (ranges, output directories); throw {@link #usage} or {@link BadInputException}. */
    protected void checkOptions() {
    }

    /** The command's work. */
    protected abstract void run() throws Exception;

    /** A usage error (exit code 2) about this command's options. */
    protected ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Where results go (stdout unless redirected by the caller of the CommandLine). */
    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Progress for long work: a bar on a terminal, log lines elsewhere, nothing with --quiet. */
    protected CliProgress progress(String unit) {
        return CliProgress.open(runtime.quiet, unit);
    }

    /**
     * Checks that {@code file} can be written: its directory exists and it is not a directory.
     * Called before any work, so a bad path fails fast and nothing is computed.
     */
    protected static void checkWritable(Path file, String option) {
        if (file == null) {
            return;
        }
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new BadInputException(file + ": cannot write " + option + ": directory " + dir + " does not exist");
        }
        if (Files.isDirectory(abs)) {
            throw new BadInputException(file + ": cannot write " + option + ": it is a directory");
        }
        if (!Files.isWritable(dir)) {
            throw new BadInputException(file + ": cannot write " + option + ": directory " + dir + " is not writable");
        }
    }

    /** Writes a float64 array atomically (nothing appears under the name unless the write completes). */
    protected static void write(Path file, INDArray array) throws IOException {
        NpyFile.write(file, array.dataType() == DataType.DOUBLE ? array : array.castTo(DataType.DOUBLE));
    }

    /** {@code [3, 4]}. */
    protected static String shape(INDArray a) {
        return Arrays.toString(a.shape());
    }

    /** Shortest text that reads back as the same double ({@code 0.0123}, {@code 1.5E-7}). */
    protected static String num(double v) {
        return Double.toString(v);
    }
}
