package dev.curvlab.curvature.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quiet mode: raises the {@code dev.curvlab} logger to WARN for the duration of a command and
 * restores it on {@link #close}. logback-classic is only a runtime dependency, so its
 * {@code Logger.setLevel} is reached by reflection; with another slf4j binding this does nothing
 * (use that binding's configuration, or {@code -Dcurvlab.log.level=WARN} with the CLI's {@link CliLogConfigurator}).
 */
final class QuietLogging implements AutoCloseable {
    private static final String LOGGER = "dev.curvlab";

    private final Object logger;
    private final Object previous;
    private final boolean active;

    private QuietLogging(Object logger, Object previous, boolean active) {
        this.logger = logger;
        this.previous = previous;
        this.active = active;
    }

    /** Sets {@code dev.curvlab} to WARN when {@code quiet}; a no-op otherwise. */
    static QuietLogging enter(boolean quiet) {
        if (!quiet) {
            return new QuietLogging(null, null, false);
        }
        Logger l = LoggerFactory.getLogger(LOGGER);
        try {
            Class<?> level = Class.forName("ch.qos.logback.classic.Level", true, l.getClass().getClassLoader());
            Object before = l.getClass().getMethod("getLevel").invoke(l);
            l.getClass().getMethod("setLevel", level).invoke(l, level.getField("WARN").get(null));
            return new QuietLogging(l, before, true);
        } catch (ReflectiveOperationException | LinkageError e) {
            return new QuietLogging(null, null, false);
        }
    }

    @Override
    public void close() {
        if (!active) {
            return;
        }
        try {
            Class<?> level = Class.forName("ch.qos.logback.classic.Level", true, logger.getClass().getClassLoader());
            logger.getClass().getMethod("setLevel", level).invoke(logger, previous);
        } catch (ReflectiveOperationException | LinkageError e) {
            // leave it quiet
        }
    }
}
