package dev.curvlab.curvature.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * Logging of the {@code curvlab} command, set up in code (a logback XML configuration costs the
 * command about 0.3 s of start-up): {@code HH:mm:ss.SSS LEVEL message} lines on stderr, so stdout
 * carries only results; {@code dev.curvlab} at INFO (or {@code -Dcurvlab.log.level}), everything
 * else (ND4J, DL4J, JavaCPP start-up chatter) at WARN.
 *
 * <p>Registered as a logback {@link Configurator} service, it acts only when
 * {@code -Dcurvlab.cli.logging=true} (set by {@link CurvlabCommand#main} unless
 * {@code -Dlogback.configurationFile} is given); anywhere else it passes on to logback's usual
 * configuration ({@code logback-test.xml}, {@code logback.xml}, defaults).
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class CliLogConfigurator extends ContextAwareBase implements Configurator {
    /** The system property that switches this configuration on. */
    public static final String ENABLE = "curvlab.cli.logging";
    /** The system property with the level of {@code dev.curvlab} (default INFO). */
    public static final String LEVEL = "curvlab.log.level";

    @Override
    public ExecutionStatus configure(LoggerContext ctx) {
        if (!Boolean.getBoolean(ENABLE)) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        LineLayout layout = new LineLayout();
        layout.setContext(ctx);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(ctx);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(ctx);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(stderr);
        ctx.getLogger("dev.curvlab").setLevel(Level.toLevel(System.getProperty(LEVEL, "INFO"), Level.INFO));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** {@code HH:mm:ss.SSS LEVEL message}, then the stack trace of an attached exception. */
    static final class LineLayout extends LayoutBase<ILoggingEvent> {
        private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

        @Override
        public String doLayout(ILoggingEvent e) {
            StringBuilder sb = new StringBuilder(96);
            sb.append(TIME.format(Instant.ofEpochMilli(e.getTimeStamp()))).append(' ');
            String level = e.getLevel().toString();
            sb.append(level).append(" ".repeat(Math.max(1, 6 - level.length())));
            sb.append(e.getFormattedMessage()).append(System.lineSeparator());
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                sb.append(t == e.getThrowableProxy() ? "" : "Caused by: ").append(t.getClassName()).append(": ").append(t.getMessage())
                        .append(System.lineSeparator());
                for (var frame : t.getStackTraceElementProxyArray()) {
                    sb.append("\tat ").append(frame.getStackTraceElement()).append(System.lineSeparator());
                }
            }
            return sb.toString();
        }
    }
}
