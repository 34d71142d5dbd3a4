package dev.curvlab.curvature.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import java.net.URL;
import org.junit.jupiter.api.Test;

/**
 * The CLI's logback.xml (tests run with logback-test.xml instead, so a broken logback.xml would
 * otherwise only show when the jar runs): it parses without errors, logs dev.curvlab at INFO and
 * ND4J/DL4J at WARN, and honours -Dcurvlab.log.level.
 */
class LogbackConfigTest {
    static LoggerContext configure() throws Exception {
        URL xml = CurvlabCommand.class.getResource("/curvlab-cli-logback.xml");
        assertNotNull(xml, "curvlab-cli-logback.xml missing from the CLI's resources");
        LoggerContext ctx = new LoggerContext();
        JoranConfigurator c = new JoranConfigurator();
        c.setContext(ctx);
        c.doConfigure(xml);
        for (Status s : ctx.getStatusManager().getCopyOfStatusList()) {
            assertTrue(s.getLevel() < Status.WARN, () -> "logback.xml: " + s);
        }
        return ctx;
    }

    @Test
    void levels() throws Exception {
        LoggerContext ctx = configure();
        assertEquals(Level.INFO, ctx.getLogger("dev.curvlab.curvature.hessian.FullHessian").getEffectiveLevel());
        assertEquals(Level.WARN, ctx.getLogger("org.nd4j.linalg.factory.Nd4jBackend").getEffectiveLevel());
        assertEquals(Level.WARN, ctx.getLogger("org.deeplearning4j.nn").getEffectiveLevel());
        ctx.stop();
    }

    @Test
    void systemPropertyQuietensCurvlab() throws Exception {
        System.setProperty("curvlab.log.level", "WARN");
        try {
            LoggerContext ctx = configure();
            assertEquals(Level.WARN, ctx.getLogger("dev.curvlab.progress").getEffectiveLevel());
            ctx.stop();
        } finally {
            System.clearProperty("curvlab.log.level");
        }
    }
}
