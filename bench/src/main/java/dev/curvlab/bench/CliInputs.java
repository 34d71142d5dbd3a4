package dev.curvlab.bench;

import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.io.NpyFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a reference problem as inputs of the {@code curvlab} command ({@code model.json},
 * {@code params.npy}, {@code X.npy}, {@code Y.npy}), for timing whole command processes:
 * {@code java -cp bench/target/curvlab-bench.jar dev.curvlab.bench.CliInputs medium DIR [SAMPLES]} (SAMPLES rows
 * instead of the problem's batch, drawn the same way).
 */
public final class CliInputs {
    private CliInputs() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: CliInputs small|medium|large DIR [SAMPLES]");
            System.exit(2);
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
}
