package dev.curvlab.curvature.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.nn.io.NpyFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The rows of issue 11's table that run in this JVM (the real entry point, in-process): each
 * asserts the exit code, exactly one stderr line {@code curvlab: error: ...} naming what and
 * where, no stack trace, inputs unchanged, and no output left unless complete. Rows 3 and 11
 * (concurrent processes, signals, kill -9) are in {@link CurvlabCliProcessTest}; the hostile-input
 * sweep is {@link CurvlabCliHostileInputsTest}.
 */
class CurvlabCliRobustnessTest {
    @TempDir
    Path dir;

    CliFixture f;

    @BeforeEach
    void setUp() throws IOException {
        f = CliFixture.mse(dir);
        NpyFile.write(dir.resolve("v.npy"), CliFixture.randn(5, 32));
    }

    /** Fails with {@code code}, one line mentioning {@code mentions}, no stack trace, and the directory exactly as before. */
    static CliFixture.Run refused(Path dir, int code, String mentions, String... args) throws IOException {
        DirSnapshot before = DirSnapshot.of(dir);
        CliFixture.Run r = CliFixture.run(args);
        assertEquals(code, r.code(), r::toString);
        List<String> lines = r.errLines();
        assertEquals(1, lines.size(), () -> "expected one stderr line\n" + r);
        assertTrue(lines.get(0).startsWith("curvlab: error: "), r::toString);
        assertTrue(lines.get(0).length() <= ErrorReporter.MAX_LINE + 20, "bounded line");
        assertTrue(lines.get(0).contains(mentions), () -> "'" + mentions + "' not in: " + lines.get(0));
        assertFalse(r.err().contains("\tat "), "stack trace without --debug");
        String changes = DirSnapshot.of(dir).changesSince(before);
        assertEquals("", changes, "inputs changed or output left behind");
        return r;
    }

    CliFixture.Run refused(int code, String mentions, String... args) throws IOException {
        return refused(dir, code, mentions, args);
    }

    /** Succeeds, and the only change in the directory is {@code created} (complete). */
    CliFixture.Run succeeds(String created, String... args) throws IOException {
        DirSnapshot before = DirSnapshot.of(dir);
        CliFixture.Run r = CliFixture.run(args);
        assertEquals(0, r.code(), r::toString);
        String changes = DirSnapshot.of(dir).changesSince(before);
        assertEquals(created == null ? "" : "+ " + created + "\n", changes.replace("~ " + created + "\n", "+ " + created + "\n"));
        return r;
    }

    // ---- row 1: outputs that are inputs -------------------------------------------------------------

    @Test
    void row01OutputsThatAreInputsAreRefusedBeforeWork() throws IOException {
        String input = "refusing to overwrite an input";
        refused(1, input, f.args("gradient", "--out", f.paramsFile()));
        refused(1, input, f.argsWithoutY("jacobian", "--out", f.xFile()));
        refused(1, input, f.args("hessian", "--out", f.modelFile()));
        refused(1, input, f.args("hvp", "--v", dir.resolve("v.npy"), "--out", dir.resolve("v.npy")));
        refused(1, input, f.args("fisher", "--se", f.paramsFile()));
        refused(1, input, f.args("ggn", "--out", f.yFile().toAbsolutePath()));
        Files.createDirectory(dir.resolve("sub"));
        refused(1, input, f.args("gradient", "--out", dir.resolve("sub/../params.npy")));
        Files.createSymbolicLink(dir.resolve("alias.npy"), f.paramsFile());
        refused(1, input, f.args("gradient", "--out", dir.resolve("alias.npy")));
        Files.createLink(dir.resolve("hard.npy"), f.xFile());
        refused(1, input, f.args("eigs", "--k", "2", "--out", dir.resolve("hard.npy")));
    }

    // ---- row 2: special files ---------------------------------------------------------------------

    @Test
    void row02DevicesAreWrittenInPlaceAndNeverReplaced() throws IOException {
        Path devNull = Path.of("/dev/null");
        Path devFull = Path.of("/dev/full");
        if (!Files.exists(devNull) || !Files.exists(devFull)) {
            return;
        }
        assertEquals(0, CliFixture.run(f.args("gradient", "--out", devNull)).code());
        assertEquals(0, CliFixture.run(f.args("hessian", "--out", devNull)).code());
        assertEquals(0, CliFixture.run(f.args("hessian", "--method", "blocked", "--out", devNull)).code());
        refused(1, "/dev/full: cannot write", f.args("hessian", "--out", devFull));
        refused(1, "No space left on device", f.args("gradient", "--out", devFull));
        for (Path p : List.of(devNull, devFull)) {
            assertTrue(Files.readAttributes(p, BasicFileAttributes.class).isOther(), p + " is still a device");
        }
    }

    // ---- row 4: a symlink at the old fixed temporary name ------------------------------------------

    @Test
    void row04ASymlinkAtThePartialNameIsNeverFollowed() throws IOException {
        byte[] y = Files.readAllBytes(f.yFile());
        Path link = Files.createSymbolicLink(dir.resolve("H.npy.partial"), f.yFile());
        for (String method : List.of("structured", "blocked")) {
            CliFixture.Run r = CliFixture.run(f.args("hessian", "--method", method, "--out", dir.resolve("H.npy")));
            assertEquals(0, r.code(), r::toString);
            assertArrayEquals(y, Files.readAllBytes(f.yFile()), "Y.npy unchanged");
            assertTrue(Files.isSymbolicLink(link));
            assertTrue(Files.isRegularFile(dir.resolve("H.npy"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertEquals(32, NpyFile.read(dir.resolve("H.npy")).size(0));
        }
    }

    // ---- rows 5 and 6: checkpoints --------------------------------------------------------------------

    /** A checkpoint of the CLI's own problem (blocked, 8 columns per band) interrupted after its first band. */
    private Path interruptedCheckpoint(String name) throws IOException {
        // sets this JVM's threads as the CLI runs below will (--threads 1)
        assertEquals(0, CliFixture.run(f.args("gradient", "--threads", "1")).code());
        Path ck = dir.resolve(name);
        HessianOperator op = new HessianOperator(f.model(), f.loss(), f.data(), f.theta(), 0);
        int[] calls = {0};
        try {
            FullHessian.compute(op, FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withBlockSize(8).withCheckpoint(ck)
                    .withProgress((task, done, total) -> {
                        if (++calls[0] == 1) {
                            throw new IllegalStateException("interrupted");
                        }
                    }));
        } catch (IllegalStateException expected) {
            // the checkpoint holds rows [0, 8)
        }
        assertTrue(Files.exists(ck.resolve("progress.json")));
        return ck;
    }

    private void editProgress(Path ck, String from, String to) throws IOException {
        Path p = ck.resolve("progress.json");
        String s = Files.readString(p);
        assertTrue(s.contains(from), s);
        Files.writeString(p, s.replace(from, to));
    }

    private static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    @Test
    void row05And06ACheckpointIsValidatedFieldByFieldAndResumedBitIdentically() throws IOException {
        Path ck = interruptedCheckpoint("ck");
        String[] resume = f.args("hessian", "--method", "blocked", "--block", "8", "--threads", "1", "--checkpoint", "CK", "--out", "H.npy");
        int copies = 0;
        List<String[]> edits = List.of(new String[] {"\"done\":8", "\"done\":40"}, new String[] {"\"done\":8", "\"done\":5"},
                new String[] {"\"done\":8", "\"done\":-100"}, new String[] {"\"blockSize\":8", "\"blockSize\":0"},
                new String[] {"\"blockSize\":8", "\"blockSize\":-5"}, new String[] {"\"blockSize\":8", "\"blockSize\":1e8"},
                new String[] {"\"blockSize\":8", "\"blockSize\":100000000"}, new String[] {"\"version\":2", "\"version\":1"},
                new String[] {"\"format\":\"curvlab-hessian-checkpoint\"", "\"format\":\"x\""}, new String[] {"\"n\":32", "\"n\":33"},
                new String[] {"\"bands\":[[0,8,", "\"bands\":[[0,7,"}, new String[] {"\"method\":\"BLOCKED\"", "\"method\":\"ROWLOOP\""},
                new String[] {"\"fingerprint\":\"", "\"fingerprint\":\"0"}, new String[] {"{", "{\"done\":\"8\","});
        for (String[] e : edits) {
            Path copy = dir.resolve("ck" + copies++);
            copyDir(ck, copy);
            editProgress(copy, e[0], e[1]);
            CliFixture.Run r = CliFixture.run(withCheckpoint(resume, copy));
            assertEquals(1, r.code(), () -> e[1] + ": " + r);
            refused(1, "cannot be resumed", withCheckpoint(resume, copy));
        }
        // changed bytes in a finished row
        Path flipped = dir.resolve("ck" + copies++);
        copyDir(ck, flipped);
        try (var ch = java.nio.channels.FileChannel.open(flipped.resolve("hessian.partial.npy"), java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0x3f}), ch.size() - 8L * 32 * 32 + 8 * 5 + 3);
        }
        refused(1, "do not match their checksum", withCheckpoint(resume, flipped));
        Path garbage = dir.resolve("ck" + copies++);
        copyDir(ck, garbage);
        Files.writeString(garbage.resolve("progress.json"), "{\"done\": 8,,,");
        refused(1, "not valid JSON", withCheckpoint(resume, garbage));
        // row 6: another thread count would mix rounding: refused, naming --threads
        refused(1, "--threads", withCheckpoint(f.args("hessian", "--method", "blocked", "--block", "8", "--threads", "2", "--checkpoint", "CK",
                "--out", "H.npy"), ck));
        refused(1, "--block 8", withCheckpoint(f.args("hessian", "--method", "blocked", "--block", "16", "--threads", "1", "--checkpoint", "CK",
                "--out", "H.npy"), ck));
        // the untouched checkpoint resumes to the bit-identical matrix of an uninterrupted run
        String[] good = withCheckpoint(resume, ck);
        CliFixture.Run r = CliFixture.run(good);
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("resumed from checkpoint"), r::toString);
        assertFalse(Files.exists(ck.resolve("progress.json")), "checkpoint cleared after completion");
        assertEquals(0, CliFixture.run(f.args("hessian", "--method", "blocked", "--block", "8", "--threads", "1", "--out",
                dir.resolve("fresh.npy"))).code());
        assertArrayEquals(Files.readAllBytes(dir.resolve("fresh.npy")), Files.readAllBytes(dir.resolve("H.npy")), "bit-identical");
    }

    private String[] withCheckpoint(String[] args, Path ck) {
        String[] a = args.clone();
        for (int i = 0; i < a.length; i++) {
            if (a[i].equals("CK")) {
                a[i] = ck.toString();
            } else if (a[i].equals("H.npy")) {
                a[i] = dir.resolve("H.npy").toString();
            }
        }
        return a;
    }

    // ---- rows 7, 8, 9: resource preflights ------------------------------------------------------------

    @Test
    void row07AJacobianTooLargeForTheBudgetIsRefusedBeforeWork() throws IOException {
        CliFixture wide = CliFixture.write(dir.resolve("wide").toFile().mkdir() ? dir.resolve("wide") : dir,
                dev.curvlab.nn.model.Sequential.builder(10).dense(20000, dev.curvlab.nn.model.Activation.IDENTITY).build(),
                dev.curvlab.nn.loss.Losses.MSE, Nd4j.zeros(DataType.DOUBLE, 220000), Nd4j.zeros(DataType.DOUBLE, 10000, 10),
                Nd4j.zeros(DataType.DOUBLE, 10000, 1));
        CliFixture.Run r = refused(1, "needs about", wide.argsWithoutY("jacobian", "--out", dir.resolve("J.npy")));
        assertTrue(r.err().contains("--x") && r.err().contains("--max-memory") && r.err().contains("[10000, 20000, 10]"), r::toString);
    }

    @Test
    void row08EigsWithAHugeKNamesKAndTheMemoryNeeded() throws IOException {
        CliFixture.Run r = refused(1, "--k 20", f.args("eigs", "--k", "20", "--max-memory", "4K"));
        assertTrue(r.err().contains("needs about") && r.err().contains("--max-memory"), r::toString);
        refused(1, "hvp of 3 direction(s)", withV(CliFixture.randn(3, 32, 3), "hvp", "--max-memory", "4K"));
        refused(1, "trace with 300 samples", f.args("trace", "--samples", "300", "--max-memory", "4K"));
        refused(1, "the gradient", f.args("gradient", "--max-memory", "1K"));
        refused(1, "--se", CliFixture.logistic(Files.createDirectory(dir.resolve("lr"))).args("fisher", "--se", dir.resolve("se.npy"),
                "--max-memory", "1K"));
    }

    private String[] withV(INDArray v, String command, Object... extra) throws IOException {
        Path p = dir.resolve("vk.npy");
        NpyFile.write(p, v);
        List<Object> a = new ArrayList<>(List.of("--v", p));
        a.addAll(List.of(extra));
        return f.args(command, a.toArray());
    }

    @Test
    void row09AFullDeviceIsReportedNamingTheFile() throws IOException {
        Path full = Path.of("/dev/full");
        if (!Files.exists(full)) {
            return;
        }
        refused(1, "/dev/full: cannot write", f.args("hvp", "--v", dir.resolve("v.npy"), "--out", full));
        refused(1, "/dev/full: cannot write", f.args("eigs", "--k", "2", "--out", full));
        refused(1, "/dev/full: cannot write", f.argsWithoutY("jacobian", "--out", full));
    }

    /** Row 9 on a real 1 MB file system (a tmpfs; skipped where mounting is not allowed). */
    @Test
    void row09FreeDiskIsCheckedBeforeTheWorkWhereTheSizeIsKnown() throws Exception {
        Path tiny = Files.createDirectory(dir.resolve("tiny"));
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", tiny.toString()).redirectErrorStream(true).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(m.waitFor() == 0, "cannot mount a 1 MB tmpfs here");
        try {
            Path w = Files.createDirectory(dir.resolve("w"));
            CliFixture wide = CliFixture.write(w, dev.curvlab.nn.model.Sequential.builder(10).dense(20, dev.curvlab.nn.model.Activation.IDENTITY)
                    .build(), dev.curvlab.nn.loss.Losses.MSE, CliFixture.randn(1, 220), CliFixture.randn(2, 2000, 10), CliFixture.randn(3, 2000, 20));
            refused(1, "of disk", wide.argsWithoutY("jacobian", "--out", tiny.resolve("J.npy")));     // [2000, 20, 10]: 3.2 MB
            refused(1, "of disk", withV(CliFixture.randn(4, 32, 5000), "hvp", "--out", tiny.resolve("hv.npy")));   // 1.3 MB
            Files.write(tiny.resolve("filler"), new byte[1024 * 1024 - 4096]);
            refused(1, "of disk", wide.args("hessian", "--method", "blocked", "--out", tiny.resolve("H.npy")));     // 220 x 220: 378 KB
            CliFixture.Run r = refused(1, "of disk", f.args("gradient", "--out", tiny.resolve("g.npy")));
            assertTrue(r.err().contains(tiny.resolve("g.npy").toString()) && r.err().contains("--out"), r::toString);
        } finally {
            new ProcessBuilder("umount", tiny.toString()).start().waitFor();
        }
    }

    // ---- row 10: all outputs or none ------------------------------------------------------------------

    @Test
    void row10FisherWritesBothOutputsOrNeither() throws IOException {
        CliFixture lr = CliFixture.logistic(dir);
        if (Files.exists(Path.of("/dev/full"))) {
            refused(1, "/dev/full", lr.args("fisher", "--pinv", "--out", dir.resolve("f.npy"), "--se", "/dev/full"));
        }
        refused(1, "does not exist", lr.args("fisher", "--pinv", "--out", dir.resolve("f.npy"), "--se", dir.resolve("full/se.npy")));
        succeeds("f.npy", lr.args("fisher", "--out", dir.resolve("f.npy")));
        DirSnapshot before = DirSnapshot.of(dir);
        assertEquals(0, CliFixture.run(lr.args("fisher", "--pinv", "--out", dir.resolve("f2.npy"), "--se", dir.resolve("se.npy"))).code());
        assertEquals("+ f2.npy\n+ se.npy\n", DirSnapshot.of(dir).changesSince(before));
    }

    // ---- row 12: FIFOs and pipes ----------------------------------------------------------------------

    @Test
    void row12AFifoIsReadAsAStreamOrRefusedByName() throws Exception {
        Path fifo = dir.resolve("params.fifo");
        if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() != 0) {
            return;
        }
        byte[] params = Files.readAllBytes(f.paramsFile());
        Thread writer = new Thread(() -> {
            try {
                Files.write(fifo, params);
            } catch (IOException ignored) {
                // seen on the reading side
            }
        });
        writer.start();
        String[] args = f.args("gradient");
        args[4] = fifo.toString();
        CliFixture.Run viaFifo = CliFixture.run(args);
        writer.join();
        assertEquals(0, viaFifo.code(), viaFifo::toString);
        assertEquals(CliFixture.run(f.args("gradient")).out(), viaFifo.out(), "same result as the regular file");
        System.setProperty("curvlab.input.openTimeoutMs", "300");
        try {
            refused(1, fifo + ": no process writes to this FIFO", args);
        } finally {
            System.clearProperty("curvlab.input.openTimeoutMs");
            Files.write(fifo, new byte[0]);   // releases the open still waiting
        }
    }

    // ---- row 13: bounded messages ---------------------------------------------------------------------

    @Test
    void row13AHugeArchitectureIsNotEchoedInFull() throws IOException {
        StringBuilder b = new StringBuilder("{\"input\": 3, \"layers\": [");
        for (int i = 0; i < 20000; i++) {
            b.append(i == 0 ? "" : ",").append("{\"type\": \"dense\", \"units\": 1, \"activation\": \"tanh\"}");
        }
        b.append("], \"loss\": \"mse\"}");
        Path big = dir.resolve("big.json");
        Files.writeString(big, b, StandardCharsets.UTF_8);
        String[] args = f.args("gradient");
        args[2] = big.toString();
        CliFixture.Run r = refused(1, "params.npy", args);
        assertTrue(r.err().contains("characters left out"), r::toString);
        // a model file past 16 MB is refused before parsing (1.1M layers took 20 s and 1 GB to parse)
        Files.writeString(big, " ".repeat(17 << 20), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        refused(1, "at most 16 MB", args);
    }

    // ---- row 14: option ranges --------------------------------------------------------------------------

    @Test
    void row14AbsurdOrOverflowingOptionsAreRefusedWithTheAcceptedRange() throws IOException {
        refused(2, "accepted: 1K to 1P", f.args("hessian", "--max-memory", "99999999999999999999G"));
        refused(2, "accepted: 1K to 1P", f.args("eigs", "--k", "2", "--max-memory", "0"));
        refused(2, "1K and 1P", f.args("hessian", "--max-memory", "-5G"));
        refused(2, "0..256", f.args("gradient", "--threads", "10000"));
        refused(2, "0..1048576", f.args("hessian", "--method", "blocked", "--block", "1000000000"));
        refused(2, "--block", f.args("hessian", "--block", "1e9"));
        refused(2, "1..1000000", f.args("trace", "--estimator", "hutchinson", "--samples", "2000000000"));
    }

    // ---- row 15: eigs not converged -----------------------------------------------------------------

    @Test
    void row15EigsNotConvergedExitsThreeAndWritesNothingUnlessAllowed() throws IOException {
        Path out = dir.resolve("eig.npy");
        String[] args = f.args("eigs", "--k", "5", "--max-iter", "6", "--tol", "1e-15", "--out", out);
        CliFixture.Run r = refused(ErrorReporter.NOT_CONVERGED, "--allow-unconverged", args);
        assertTrue(r.out().contains("NOT converged"), r::toString);
        List<String> allowed = new ArrayList<>(List.of(args));
        allowed.add("--allow-unconverged");
        succeeds("eig.npy", allowed.toArray(String[]::new));
        assertEquals(5, NpyFile.read(out).length());
        succeeds(null, f.args("eigs", "--k", "2"));
    }
}
