package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.progress.LoggingProgress;
import dev.curvlab.curvature.progress.ProgressListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long command: a terminal progress bar (me.tongfei.progressbar, on stderr) when a
 * console is attached, slf4j lines from {@link LoggingProgress} every 2 s otherwise (pipes, files,
 * CI logs), nothing with {@code --quiet}. A new task name starts a new bar.
 */
final class CliProgress implements ProgressListener, AutoCloseable {
    /** Seconds between log lines when there is no terminal. */
    static final long LOG_INTERVAL_MILLIS = 2000;

    private enum Mode { NONE, BAR, LOG }

    private final Mode mode;
    private final String unit;
    private final ProgressListener log;
    private ProgressBar bar;
    private String barTask;

    private CliProgress(Mode mode, String unit) {
        this.mode = mode;
        this.unit = unit;
        this.log = mode == Mode.LOG ? new LoggingProgress(unit, LOG_INTERVAL_MILLIS) : ProgressListener.NONE;
    }

    /** @param unit what is counted, e.g. "columns" */
    static CliProgress open(boolean quiet, String unit) {
        if (quiet) {
            return new CliProgress(Mode.NONE, unit);
        }
        return new CliProgress(System.console() != null ? Mode.BAR : Mode.LOG, unit);
    }

    @Override
    public void progress(String task, long done, long total) {
        switch (mode) {
            case LOG -> log.progress(task, done, total);
            case BAR -> bar(task, done, total);
            default -> { }
        }
    }

    private void bar(String task, long done, long total) {
        if (bar == null || !task.equals(barTask)) {
            close();
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setUnit(" " + unit, 1).setUpdateIntervalMillis(250).setMaxRenderedLength(100).build();
            barTask = task;
        }
        if (bar.getMax() != total) {
            bar.maxHint(total);
        }
        bar.stepTo(done);
        if (done >= total) {
            close();    // final state drawn; later log lines do not interleave with repaints
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
            barTask = null;
        }
    }
}
