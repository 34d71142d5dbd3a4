package dev.curvlab.curvature.cli;

import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

/**
 * A small problem written to files (model.json, params.npy, X.npy, Y.npy) plus the same objects in
 * memory, and an in-process runner of {@code curvlab} that captures stdout and stderr.
 */
record CliFixture(Path dir, Sequential model, Loss loss, INDArray theta, Dataset data, Path modelFile, Path paramsFile, Path xFile,
        Path yFile) {

    /** What one run printed and returned. */
    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : Arrays.asList(err.split("\\R"));
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    /** Runs {@code curvlab args} in this JVM as a test would: {@code new CommandLine(new CurvlabCommand()).execute(args)}. */
    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new CurvlabCommand()).execute(args);
        } finally {
            System.out.flush();
            System.err.flush();
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static INDArray randn(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, shape);
    }

    /** 3-5(tanh)-2, mse, 7 samples (N = 32). */
    static CliFixture mse(Path dir) throws IOException {
        Sequential m = Sequential.builder(3).dense(5, Activation.TANH).dense(2, Activation.IDENTITY).build();
        return write(dir, m, Losses.MSE, m.initialParameters(11), randn(12, 7, 3), randn(13, 7, 2));
    }

    /** 3-4(tanh)-3, ce, 9 samples with class indices [n] (N = 31). */
    static CliFixture ce(Path dir) throws IOException {
        Sequential m = Sequential.builder(3).dense(4, Activation.TANH).dense(3, Activation.IDENTITY).build();
        double[] cls = new double[9];
        for (int i = 0; i < cls.length; i++) {
            cls[i] = i % 3;
        }
        return write(dir, m, Losses.CROSS_ENTROPY, m.initialParameters(21), randn(22, 9, 3), Nd4j.create(cls, new long[] {9}, DataType.DOUBLE));
    }

    /** Logistic regression 3-1, bce, 40 samples (N = 4): its observed Fisher X^T W X is positive definite. */
    static CliFixture logistic(Path dir) throws IOException {
        Sequential m = Sequential.builder(3).dense(1, Activation.IDENTITY).build();
        INDArray x = randn(31, 40, 3);
        double[] y = new double[40];
        for (int i = 0; i < y.length; i++) {
            y[i] = (i * 7) % 3 == 0 ? 1 : 0;
        }
        return write(dir, m, Losses.BCE, randn(32, 4).muli(0.3), x, Nd4j.create(y, new long[] {40, 1}, DataType.DOUBLE));
    }

    static CliFixture write(Path dir, Sequential m, Loss loss, INDArray theta, INDArray x, INDArray y) throws IOException {
        Path model = dir.resolve("model.json");
        Path params = dir.resolve("params.npy");
        Path xf = dir.resolve("X.npy");
        Path yf = dir.resolve("Y.npy");
        ModelFile.write(model, params, new ModelSpec(m, loss, "cli test"), theta);
        NpyFile.write(xf, x);
        NpyFile.write(yf, y);
        return new CliFixture(dir, m, loss, theta, new Dataset(x, y), model, params, xf, yf);
    }

    /** {@code command --model .. --params .. --x .. --y .. extra...}. */
    String[] args(String command, Object... extra) {
        List<String> a = new ArrayList<>(List.of(command, "--model", modelFile.toString(), "--params", paramsFile.toString(),
                "--x", xFile.toString(), "--y", yFile.toString()));
        for (Object e : extra) {
            a.add(e.toString());
        }
        return a.toArray(String[]::new);
    }

    /** The same without {@code --y} (jacobian). */
    String[] argsWithoutY(String command, Object... extra) {
        List<String> a = new ArrayList<>(List.of(command, "--model", modelFile.toString(), "--params", paramsFile.toString(),
                "--x", xFile.toString()));
        for (Object e : extra) {
            a.add(e.toString());
        }
        return a.toArray(String[]::new);
    }

    Path file(String name) {
        return dir.resolve(name);
    }
}
