package dev.curvlab.curvature.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code curvlab}: derivatives and curvature of a saved model from the command line. Every
 * subcommand reads a model ({@code --model model.json --params params.npy}, see
 * {@link dev.curvlab.nn.io.ModelFile}) and data ({@code --x X.npy --y Y.npy}) and writes float64
 * {@code .npy} files.
 *
 * <p>In-process use: {@code new CommandLine(new CurvlabCommand()).execute(args)} returns the exit
 * code and never calls {@link System#exit}: the model transformer {@link Setup} installs the error
 * handling (one line {@code curvlab: error: ...} on stderr; exit code 2 for usage errors, 1 for
 * input and data errors) on whatever {@link CommandLine} is built around this command. Only
 * {@link #main} exits.
 */
@Command(name = "curvlab", mixinStandardHelpOptions = true, versionProvider = CurvlabCommand.Version.class,
        modelTransformer = CurvlabCommand.Setup.class, sortOptions = false, usageHelpAutoWidth = true,
        description = "Gradients, Hessians, GGN and Fisher matrices, Hessian-vector products, eigenvalues and traces"
                + " of neural networks saved as model.json + params.npy (float64 .npy in and out).",
        subcommands = {GradientCommand.class, HessianCommand.class, HvpCommand.class, GgnCommand.class,
                EmpiricalFisherCommand.class, FisherCommand.class, EigsCommand.class, TraceCommand.class,
                JacobianCommand.class, KfacCommand.class, DiagCommand.class, LaplaceCommand.class,
                PredictCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Run 'curvlab COMMAND --help' for a command's options. Exit codes: 0 success, 1 bad input or"
                + " data (or a failed computation), 2 bad usage, 3 not converged (eigs; see --allow-unconverged)."
                + " Outputs are written atomically and all together, or not at all."})
public final class CurvlabCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The JVM entry point: sets the JavaCPP memory properties before any ND4J class loads, runs, exits. */
    public static void main(String[] args) {
        // ND4J arrays live off-heap; JavaCPP's default limits (tied to -Xmx) would fail large Hessians.
        setIfAbsent("org.bytedeco.javacpp.maxphysicalbytes", "0");
        setIfAbsent("org.bytedeco.javacpp.maxbytes", "0");
        // the CLI's own logging (CliLogConfigurator), unless a logback configuration file is given
        if (System.getProperty("logback.configurationFile") == null) {
            setIfAbsent(CliLogConfigurator.ENABLE, "true");
        }
        NativeWarmUp.start();
        int code = new CommandLine(new CurvlabCommand()).execute(args);
        System.out.flush();
        System.err.flush();
        System.exit(code);
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** {@code curvlab} without a command is a usage error. */
    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command; one of " + String.join(", ", spec.subcommands().keySet()));
    }

    /**
     * Configures the {@link CommandLine} built around a {@link CurvlabCommand}: error handlers,
     * case-insensitive enum values. Picocli runs it after the command line exists, so
     * {@code spec.commandLine()} is the instance being constructed.
     */
    public static final class Setup implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            CommandLine cl = spec.commandLine();
            if (cl != null) {
                ErrorReporter reporter = new ErrorReporter();
                cl.setParameterExceptionHandler(reporter);
                cl.setExecutionExceptionHandler(reporter);
                cl.setCaseInsensitiveEnumValuesAllowed(true);
            }
            return spec;
        }
    }

    /** {@code curvlab 0.1.0} from the build (jar manifest or filtered resource). */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"curvlab " + version(), "Java " + System.getProperty("java.version") + ", ND4J 1.0.0-M2.1 (float64)"};
        }

        static String version() {
            String v = CurvlabCommand.class.getPackage().getImplementationVersion();
            if (v != null) {
                return v;
            }
            try (InputStream in = CurvlabCommand.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    return p.getProperty("version", "unknown");
                }
            } catch (IOException e) {
                // fall through
            }
            return "unknown";
        }
    }
}
