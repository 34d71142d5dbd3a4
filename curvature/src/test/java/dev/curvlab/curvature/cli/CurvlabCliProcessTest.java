package dev.curvlab.curvature.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Issue 11's rows that need separate processes (the real {@code main}, a JVM each): concurrent
 * writers of one output (row 3), SIGTERM and SIGINT during a Hessian (row 11: no temporary left,
 * checkpoint kept), and kill -9 followed by a resume that is bit-identical to an uninterrupted run.
 * Six JVM starts, about 20 s.
 */
class CurvlabCliProcessTest {
    @TempDir
    Path dir;

    CliFixture f;

    @BeforeEach
    void setUp() throws IOException {
        // 10-32-32-3 tanh, ce, 200 samples: N = 1,507 (an 18 MB Hessian); blocked with 2 columns per pass takes seconds
        Sequential m = Sequential.builder(10).dense(32, Activation.TANH).dense(32, Activation.TANH).dense(3, Activation.IDENTITY).build();
        double[] cls = new double[200];
        for (int i = 0; i < cls.length; i++) {
            cls[i] = i % 3;
        }
        f = CliFixture.write(dir, m, Losses.CROSS_ENTROPY, m.initialParameters(3), CliFixture.randn(4, 200, 10),
                Nd4j.create(cls, new long[] {200}, DataType.DOUBLE));
    }

    private Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), CurvlabCommand.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log-" + System.nanoTime() + ".txt").toFile())
                .start();
    }

    private static void awaitFile(Path dir, String prefix, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < end) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.anyMatch(p -> p.getFileName().toString().startsWith(prefix))) {
                    return;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no " + prefix + "* in " + dir + " after " + timeoutMs + " ms");
    }

    private List<String> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".") || n.startsWith("H.npy")).toList();
        }
    }

    @Test
    void row11SigtermAndSigintRemoveTemporariesAndKeepCheckpoints() throws Exception {
        // the generic engine keeps the run seconds long, so the signal lands mid-computation (the layer engine can finish first)
        String[] slow = f.args("hessian", "--method", "blocked", "--block", "2", "--engine", "generic", "--quiet", "--out", dir.resolve("H.npy"));
        for (String signal : List.of("TERM", "INT")) {
            Process p = start(slow);
            awaitFile(dir, ".H.npy.", 60_000);
            Thread.sleep(500);
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(signal.equals("TERM") ? 143 : 130, p.exitValue(), signal);
            assertEquals(List.of(), leftovers(), "after SIG" + signal);
        }
        // with a checkpoint: the temporaries go, the checkpoint stays
        Path ck = dir.resolve("ck");
        List<String> args = new ArrayList<>(List.of(slow));
        args.addAll(List.of("--checkpoint", ck.toString()));
        Process p = start(args.toArray(String[]::new));
        awaitFile(ck.toFile().mkdirs() || Files.isDirectory(ck) ? ck : dir, "progress.json", 60_000);
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(143, p.exitValue());
        assertEquals(List.of(), leftovers());
        assertTrue(Files.exists(ck.resolve("progress.json")) && Files.exists(ck.resolve("hessian.partial.npy")), "checkpoint kept");
    }

    @Test
    void sigtermDuringKfacRemovesTheTemporaryFactorsDirectory() throws Exception {
        // 200 inputs x 100,000 sampled labels: seconds of work with the hidden .F.<random>.partial directory staged
        Process p = start(f.args("kfac", "--variant", "mc", "--samples", "100000", "--quiet", "--factors", dir.resolve("F")));
        awaitFile(dir, ".F.", 60_000);
        Thread.sleep(300);
        new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(143, p.exitValue());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.map(q -> q.getFileName().toString()).filter(n -> n.startsWith(".") || n.equals("F")).toList());
        }
    }

    @Test
    void killNineThenResumeIsBitIdentical() throws Exception {
        // a smaller problem (N = 499, 40 samples) so that the uninterrupted comparison run stays short
        Path sub = Files.createDirectory(dir.resolve("small"));
        Sequential m = Sequential.builder(10).dense(16, Activation.TANH).dense(16, Activation.TANH).dense(3, Activation.IDENTITY).build();
        CliFixture small = CliFixture.write(sub, m, Losses.MSE, m.initialParameters(5), CliFixture.randn(6, 40, 10), CliFixture.randn(7, 40, 3));
        Path ck = sub.resolve("ck");
        Files.createDirectories(ck);
        String[] args = small.args("hessian", "--method", "blocked", "--block", "8", "--threads", "1", "--quiet", "--checkpoint", ck.toString(),
                "--out", sub.resolve("H.npy").toString());
        Process p = start(args);
        awaitFile(ck, "progress.json", 60_000);
        Thread.sleep(200);
        org.junit.jupiter.api.Assumptions.assumeTrue(p.isAlive(), "the run finished before it could be killed");
        p.destroyForcibly();
        p.waitFor(60, TimeUnit.SECONDS);
        assertFalse(Files.exists(sub.resolve("H.npy")), "no output from the killed run");
        CliFixture.Run resumed = CliFixture.run(args);
        assertEquals(0, resumed.code(), resumed::toString);
        assertTrue(resumed.out().contains("resumed from checkpoint"), resumed::toString);
        String[] fresh = small.args("hessian", "--method", "blocked", "--block", "8", "--threads", "1", "--quiet", "--out",
                sub.resolve("fresh.npy").toString());
        assertEquals(0, CliFixture.run(fresh).code());
        assertArrayEquals(Files.readAllBytes(sub.resolve("fresh.npy")), Files.readAllBytes(sub.resolve("H.npy")), "bit-identical after kill -9");
    }

    @Test
    void row03ConcurrentWritersLeaveOneCompleteResult() throws Exception {
        Path h = dir.resolve("H.npy");
        Process a = start(f.args("hessian", "--quiet", "--out", h.toString()));
        Process b = start(f.args("ggn", "--quiet", "--out", h.toString()));
        assertTrue(a.waitFor(120, TimeUnit.SECONDS) && b.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, a.exitValue());
        assertEquals(0, b.exitValue());
        assertEquals(0, CliFixture.run(f.args("hessian", "--quiet", "--out", dir.resolve("hess.npy"))).code());
        assertEquals(0, CliFixture.run(f.args("ggn", "--quiet", "--out", dir.resolve("ggn.npy"))).code());
        INDArray got = NpyFile.read(h);
        double toHessian = Transforms.abs(got.sub(NpyFile.read(dir.resolve("hess.npy")))).maxNumber().doubleValue();
        double toGgn = Transforms.abs(got.sub(NpyFile.read(dir.resolve("ggn.npy")))).maxNumber().doubleValue();
        assertTrue(Math.min(toHessian, toGgn) < 1e-10 && Math.max(toHessian, toGgn) > 1e-6,
                "one complete result: distance to Hessian " + toHessian + ", to GGN " + toGgn);
        assertEquals(List.of("H.npy"), leftovers());
    }
}
