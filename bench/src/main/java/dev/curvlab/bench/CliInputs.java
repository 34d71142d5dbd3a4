package dev.curvlab.bench;

import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a reference problem as inputs of the {@code curvlab} command ({@code model.json},
 * {@code params.npy}, {@code X.npy}, {@code Y.npy}), for timing whole command processes:
 * {@code java -cp bench/target/curvlab-bench.jar dev.curvlab.bench.CliInputs medium DIR [SAMPLES]} (SAMPLES rows
 * instead of the problem's batch, drawn the same way). {@code digits-cnn} writes the CNN of
 * {@link CnnBench} at its point ({@code initialParameters(1)}) with the first SAMPLES digits
 * (default 1,000): {@code X.npy [n, 1, 8, 8]}, {@code Y.npy} class indices {@code [n]}.
 */
public final class CliInputs {
    private CliInputs() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: CliInputs small|medium|large|digits-cnn DIR [SAMPLES]");
            System.exit(2);
        }
        if (args[0].equals("digits-cnn")) {
            writeDigitsCnn(Files.createDirectories(Path.of(args[1])), args.length == 3 ? Integer.parseInt(args[2]) : 1000);
            return;
        }
        Problems.Mlp mlp = Problems.named(args[0]);
        if (args.length == 3) {
            mlp = new Problems.Mlp(mlp.name(), mlp.sizes(), mlp.loss(), Integer.parseInt(args[2]));
        }
        Problems.Instance p = mlp.build();
        Path dir = Files.createDirectories(Path.of(args[1]));
        ModelFile.write(dir.resolve("model.json"), dir.resolve("params.npy"), new ModelSpec(p.model(), p.problem().loss(), args[0]), p.theta());
        NpyFile.write(dir.resolve("X.npy"), p.data().x());
        NpyFile.write(dir.resolve("Y.npy"), p.data().y());
        System.out.println(p.problem() + ": model.json, params.npy, X.npy, Y.npy in " + dir);
    }

    private static void writeDigitsCnn(Path dir, int samples) throws IOException {
        Sequential model = CnnBench.network();
        Dataset data = Datasets.digits().rows(0, samples);
        ModelFile.write(dir.resolve("model.json"), dir.resolve("params.npy"), new ModelSpec(model, Losses.CROSS_ENTROPY, "digits-cnn"),
                model.initialParameters(1));
        NpyFile.write(dir.resolve("X.npy"), data.x());
        NpyFile.write(dir.resolve("Y.npy"), data.y());
        System.out.println("digits CNN " + model.describe() + ", N = " + model.parameterCount() + ", " + data.n()
                + " images: model.json, params.npy, X.npy, Y.npy in " + dir);
    }
}
