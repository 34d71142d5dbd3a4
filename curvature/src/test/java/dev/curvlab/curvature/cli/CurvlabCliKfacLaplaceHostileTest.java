package dev.curvlab.curvature.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.curvature.cli.CurvlabCliHostileInputsTest.Case;
import dev.curvlab.curvature.cli.CurvlabCliHostileInputsTest.Env;
import dev.curvlab.nn.io.NpyFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile inputs for kfac, diag, laplace and predict (issue 11's conventions applied to issue 14's
 * commands): each is refused with its exit code and one stderr line naming the option or file, no
 * stack trace, every input unchanged and no output left ({@link CurvlabCliRobustnessTest#refused}).
 * The fixture is the 3-5(tanh)-2 mse model (N = 32, 7 samples).
 */
class CurvlabCliKfacLaplaceHostileTest {
    @TempDir
    Path dir;

    /** A posterior written by {@code curvlab laplace} into {@code name} (kron, all layers). */
    static Path posterior(Env e, String name) {
        Path post = e.dir().resolve(name);
        CurvlabCliTest.ok(e.f().args("laplace", "--posterior", post, "--quiet"));
        return post;
    }

    static String[] predict(Env e, Path post, Object... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("predict", "--posterior", post.toString(), "--x", e.f().xFile().toString(),
                "--out", e.out().toString()));
        for (Object x : extra) {
            a.add(x.toString());
        }
        return a.toArray(String[]::new);
    }

    static Stream<Case> cases() {
        return Stream.of(
                // option values
                new Case("kfac --variant foo", 2, "--variant", e -> e.f().args("kfac", "--factors", e.dir().resolve("F"), "--variant", "foo")),
                new Case("laplace --structure foo", 2, "--structure", e -> e.f().args("laplace", "--structure", "foo")),
                new Case("laplace --subset first", 2, "--subset", e -> e.f().args("laplace", "--subset", "first")),
                new Case("diag --of fisher2", 2, "--of", e -> e.f().args("diag", "--out", e.out(), "--of", "fisher2")),
                new Case("kfac --samples -3", 2, "--samples", e -> e.f().args("kfac", "--factors", e.dir().resolve("F"), "--variant", "mc",
                        "--samples", "-3")),
                new Case("kfac --samples overflowing int", 2, "--samples", e -> e.f().args("kfac", "--factors", e.dir().resolve("F"),
                        "--variant", "mc", "--samples", "99999999999")),
                new Case("diag --samples 2e9", 2, "--samples", e -> e.f().args("diag", "--out", e.out(), "--of", "mc-fisher",
                        "--samples", "2000000000")),
                new Case("kfac --samples without mc", 2, "--samples", e -> e.f().args("kfac", "--factors", e.dir().resolve("F"), "--samples", "5")),
                new Case("predict --mc -1", 2, "--mc", e -> predict(e, e.dir().resolve("post"), "--mc", "-1")),
                new Case("--prior-precision 0", 2, "--prior-precision", e -> e.f().args("laplace", "--prior-precision", "0")),
                new Case("--prior-precision -1", 2, "--prior-precision", e -> e.f().args("laplace", "--prior-precision", "-1")),
                new Case("--prior-precision NaN", 2, "--prior-precision", e -> e.f().args("laplace", "--prior-precision", "NaN")),
                new Case("--prior-precision with --optimize", 2, "--optimize", e -> e.f().args("laplace", "--prior-precision", "1", "--optimize")),
                new Case("--prior-precision 3 values for 2 layers", 1, "--prior-precision", e -> e.f().args("laplace", "--prior-precision", "1,2,3")),
                new Case("--sigma 0", 2, "--sigma", e -> e.f().args("laplace", "--sigma", "0")),
                new Case("--sigma -1", 2, "--sigma", e -> e.f().args("laplace", "--sigma", "-1")),
                new Case("--sigma Infinity", 2, "--sigma", e -> e.f().args("laplace", "--sigma", "Infinity")),
                new Case("kron with the Hessian", 2, "--curvature ggn", e -> e.f().args("laplace", "--structure", "kron", "--curvature", "hessian")),
                new Case("laplace --loss foo", 1, "--loss foo", e -> e.f().args("laplace", "--loss", "foo")),
                new Case("a conv layer in the model", 1, "m.json", e -> e.with("kfac", "--model", e.text("m.json",
                        "{\"input\": 3, \"layers\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"activation\": \"tanh\"}], \"loss\": \"mse\"}"),
                        "--factors", e.dir().resolve("F"))),
                // predict on bad posteriors
                new Case("predict on a missing posterior", 1, "--posterior", e -> predict(e, e.dir().resolve("absent"))),
                new Case("predict on a directory without posterior.json", 1, "posterior.json", e -> predict(e, Files.createDirectory(e.dir().resolve("p")))),
                new Case("predict on a corrupt posterior.json", 1, "--posterior", e -> {
                    Path p = Files.createDirectory(e.dir().resolve("p"));
                    Files.writeString(p.resolve("posterior.json"), "{\"format\": \"curvlab-laplace-posterior\", ");
                    return predict(e, p);
                }),
                new Case("predict on a posterior of another format", 1, "--posterior", e -> {
                    Path p = Files.createDirectory(e.dir().resolve("p"));
                    Files.writeString(p.resolve("posterior.json"), "{\"format\": \"something-else\"}");
                    return predict(e, p);
                }),
                new Case("predict on a posterior whose parameters belong to another model", 1, "--posterior", e -> {
                    Path post = posterior(e, "post");
                    NpyFile.write(post.resolve("params.npy"), CliFixture.randn(3, 31));
                    return predict(e, post);
                }),
                new Case("predict on a posterior with its factors missing", 1, "--posterior", e -> {
                    Path post = posterior(e, "post");
                    Files.delete(post.resolve("G_1.npy"));
                    return predict(e, post);
                }),
                new Case("predict with X of another model's width", 1, "X2.npy", e -> {
                    Path post = posterior(e, "post");
                    Path x = e.array("X2.npy", new double[28], 7, 4);
                    return new String[] {"predict", "--posterior", post.toString(), "--x", x.toString(), "--out", e.out().toString()};
                }),
                new Case("predict over the memory budget", 1, "--max-memory", e -> predict(e, posterior(e, "post"), "--max-memory", "1K")),
                // memory preflights
                new Case("laplace full over the budget points to kron", 1, "--structure kron", e -> e.f().args("laplace", "--structure", "full",
                        "--max-memory", "1K")),
                new Case("kfac factors over the budget", 1, "kfac factors", e -> e.f().args("kfac", "--factors", e.dir().resolve("F"),
                        "--max-memory", "1K")),
                new Case("kfac dense --out over the budget", 1, "--out (the dense", e -> e.f().args("kfac", "--factors", e.dir().resolve("F"),
                        "--out", e.out(), "--max-memory", "50K")),
                new Case("diag over the budget", 1, "--max-memory", e -> e.f().args("diag", "--out", e.out(), "--max-memory", "1K")),
                // outputs that are inputs, impossible outputs
                new Case("kfac --out is --x", 1, "refusing to overwrite", e -> e.f().args("kfac", "--factors", e.dir().resolve("F"),
                        "--out", e.f().xFile())),
                new Case("diag --out a symlink to --params", 1, "refusing to overwrite", e -> e.f().args("diag", "--out",
                        Files.createSymbolicLink(e.dir().resolve("link.npy"), e.f().paramsFile()))),
                new Case("laplace --report is --model", 1, "refusing to overwrite", e -> e.f().args("laplace", "--report", e.f().modelFile())),
                new Case("laplace --posterior holds the input model", 1, "holds the input", e -> {
                    Path post = posterior(e, "post");
                    return new String[] {"laplace", "--model", post.resolve("model.json").toString(), "--params", post.resolve("params.npy").toString(),
                            "--x", e.f().xFile().toString(), "--y", e.f().yFile().toString(), "--posterior", post.toString()};
                }),
                new Case("predict --out is --x", 1, "refusing to overwrite",
                        e -> new String[] {"predict", "--posterior", posterior(e, "post").toString(), "--x", e.f().xFile().toString(),
                                "--out", e.f().xFile().toString()}),
                new Case("laplace --report inside --posterior", 1, "lies inside", e -> e.f().args("laplace", "--posterior",
                        Files.createDirectory(e.dir().resolve("post")), "--report", e.dir().resolve("post/laplace.json"))),
                new Case("kfac --factors is a file", 1, "not a directory", e -> e.f().args("kfac", "--factors", e.f().yFile())),
                new Case("kfac --factors an unrelated directory", 1, "not empty", e -> e.f().args("kfac", "--factors", e.dir())),
                new Case("kfac --factors a symlink to a directory", 1, "symbolic link", e -> e.f().args("kfac", "--factors",
                        Files.createSymbolicLink(e.dir().resolve("F"), Files.createDirectory(e.dir().resolve("real"))))),
                new Case("kfac --factors in a missing directory", 1, "does not exist", e -> e.f().args("kfac", "--factors", e.dir().resolve("no/F"))),
                new Case("kfac --factors and --out on /dev/full: neither left", 1, "/dev/full", e -> e.f().args("kfac", "--factors",
                        e.dir().resolve("F"), "--out", "/dev/full")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRefusedCleanly(Case c) throws IOException {
        if (c.name().contains("/dev/full")) {
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/full")), "no writable /dev/full");
        }
        CliFixture f = CliFixture.mse(dir);
        String[] args = c.setup().args(new Env(f, dir));
        CurvlabCliRobustnessTest.refused(dir, c.code(), c.mentions(), args);
    }

    /** Read-only and full file systems (tmpfs mounts; skipped where mounting is not allowed): refused before the work. */
    @Test
    void readOnlyAndFullPlacesAreRefusedBeforeTheWork() throws Exception {
        CliFixture f = CliFixture.mse(dir);
        Path post = posterior(new Env(f, dir), "post");
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Path tiny = Files.createDirectory(dir.resolve("tiny"));
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro.toString()).redirectErrorStream(true).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(m.waitFor() == 0, "cannot mount a tmpfs here");
        try {
            Process t = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", tiny.toString()).redirectErrorStream(true).start();
            org.junit.jupiter.api.Assumptions.assumeTrue(t.waitFor() == 0, "cannot mount a tmpfs here");
            try {
                CurvlabCliRobustnessTest.refused(dir, 1, "not writable", f.args("kfac", "--factors", ro.resolve("F")));
                CurvlabCliRobustnessTest.refused(dir, 1, "not writable", f.args("laplace", "--posterior", ro.resolve("post")));
                CurvlabCliRobustnessTest.refused(dir, 1, "not writable", f.args("laplace", "--report", ro.resolve("l.json")));
                CurvlabCliRobustnessTest.refused(dir, 1, "not writable", f.args("diag", "--out", ro.resolve("d.npy")));
                CurvlabCliRobustnessTest.refused(dir, 1, "not writable", "predict", "--posterior", post.toString(), "--x", f.xFile().toString(),
                        "--out", ro.resolve("p.npy").toString());
                Files.write(tiny.resolve("filler"), new byte[1024 * 1024 - 4096]);
                CurvlabCliRobustnessTest.refused(dir, 1, "of disk", f.args("kfac", "--factors", tiny.resolve("F")));
                CurvlabCliRobustnessTest.refused(dir, 1, "of disk", f.args("laplace", "--posterior", tiny.resolve("post")));
            } finally {
                new ProcessBuilder("umount", tiny.toString()).start().waitFor();
            }
        } finally {
            new ProcessBuilder("umount", ro.toString()).start().waitFor();
        }
    }

    /** A second kfac run replaces the earlier --factors directory as a whole (no stale EKFAC files), leaving no temporary. */
    @Test
    void factorsDirectoryIsReplacedAsAWholeAndNoTemporaryRemains() throws IOException {
        CliFixture f = CliFixture.mse(dir);
        Path factors = dir.resolve("F");
        CurvlabCliTest.ok(f.args("kfac", "--factors", factors, "--ekfac", "--quiet"));
        assertTrue(Files.exists(factors.resolve("QA_0.npy")));
        CurvlabCliTest.ok(f.args("kfac", "--factors", factors, "--quiet"));
        assertTrue(Files.exists(factors.resolve("A_0.npy")) && Files.exists(factors.resolve(KfacCommand.MARKER)));
        assertFalse(Files.exists(factors.resolve("QA_0.npy")), "stale EKFAC files of the earlier run");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList(), "hidden temporaries left");
        }
        try (Stream<Path> s = Files.list(factors)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList(), "hidden temporaries left");
        }
    }
}
