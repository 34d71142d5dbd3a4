package dev.curvlab.curvature.cli;

import picocli.CommandLine.Option;

/** Options every command takes: threads, quiet, debug, help. */
final class RuntimeOptions {
    @Option(names = "--threads", order = 90, paramLabel = "T", description = "BLAS (matrix product) threads; 0 = all processors (default: ${DEFAULT-VALUE}). Elementwise kernels run on one thread, which is faster for their sizes")
    int threads;

    @Option(names = {"-q", "--quiet"}, order = 91, description = "no progress bar or log lines on stderr (results still go to stdout)")
    boolean quiet;

    @Option(names = "--debug", order = 92, description = "print the stack trace with an error")
    boolean debug;

    @Option(names = {"-h", "--help"}, order = 93, usageHelp = true, description = "show this help and exit")
    boolean help;
}
