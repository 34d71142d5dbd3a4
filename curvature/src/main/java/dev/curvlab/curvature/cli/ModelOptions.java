package dev.curvlab.curvature.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The model and its inputs: {@code --model model.json --params params.npy --x X.npy}. */
final class ModelOptions {
    @Option(names = "--model", order = 1, required = true, paramLabel = "FILE", description = "architecture (and loss), model.json")
    Path model;

    @Option(names = "--params", order = 2, required = true, paramLabel = "FILE", description = "parameters theta [N], float64 .npy")
    Path params;

    @Option(names = "--x", order = 3, required = true, paramLabel = "FILE", description = "inputs X [n, in], .npy")
    Path x;
}
