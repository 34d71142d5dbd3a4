package dev.curvlab.curvature.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * The CLI's logging setup (tests themselves log through logback-test.xml, so a broken setup would
 * otherwise only show when the jar runs).
 */
class CliLogConfiguratorTest {
    private static LoggerContext configured(String level) {
        String previous = System.getProperty(CliLogConfigurator.LEVEL);
        System.setProperty(CliLogConfigurator.ENABLE, "true");
        if (level != null) {
            System.setProperty(CliLogConfigurator.LEVEL, level);
        }
        try {
            LoggerContext ctx = new LoggerContext();
            CliLogConfigurator c = new CliLogConfigurator();
            c.setContext(ctx);
            assertEquals(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, c.configure(ctx));
            return ctx;
        } finally {
            System.clearProperty(CliLogConfigurator.ENABLE);
            if (previous == null) {
                System.clearProperty(CliLogConfigurator.LEVEL);
            } else {
                System.setProperty(CliLogConfigurator.LEVEL, previous);
            }
        }
    }

    @Test
    void curvlabLogsAtInfoAndLibrariesAtWarnToStderr() {
        LoggerContext ctx = configured(null);
        assertEquals(Level.INFO, ctx.getLogger("dev.curvlab.curvature.hessian.FullHessian").getEffectiveLevel());
        assertEquals(Level.WARN, ctx.getLogger("org.nd4j.linalg.factory.Nd4jBackend").getEffectiveLevel());
        assertEquals(Level.WARN, ctx.getLogger("org.deeplearning4j.nn").getEffectiveLevel());
        var appender = (ch.qos.logback.core.ConsoleAppender<?>) ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
        assertEquals("System.err", appender.getTarget());
        ctx.stop();
    }

    @Test
    void levelPropertyQuietensCurvlab() {
        LoggerContext ctx = configured("WARN");
        assertEquals(Level.WARN, ctx.getLogger("dev.curvlab.progress").getEffectiveLevel());
        ctx.stop();
    }

    @Test
    void linesCarryTimeLevelAndMessage() {
        LoggerContext ctx = new LoggerContext();
        CliLogConfigurator.LineLayout layout = new CliLogConfigurator.LineLayout();
        layout.setContext(ctx);
        LoggingEvent e = new LoggingEvent("x", ctx.getLogger("dev.curvlab.x"), Level.INFO, "hessian: {} rows", null, new Object[] {42});
        String line = layout.doLayout(e);
        assertTrue(line.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d INFO  hessian: 42 rows\\R"), line);
    }

    @Test
    void withoutThePropertyItLeavesConfigurationToLogback() {
        System.clearProperty(CliLogConfigurator.ENABLE);
        LoggerContext ctx = new LoggerContext();
        CliLogConfigurator c = new CliLogConfigurator();
        c.setContext(ctx);
        assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, c.configure(ctx));
        assertFalse(ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext());
    }

    @Test
    void isRegisteredAsALogbackService() {
        boolean found = ServiceLoader.load(Configurator.class).stream().anyMatch(p -> p.type() == CliLogConfigurator.class);
        assertTrue(found, "META-INF/services/ch.qos.logback.classic.spi.Configurator does not name CliLogConfigurator");
    }
}
