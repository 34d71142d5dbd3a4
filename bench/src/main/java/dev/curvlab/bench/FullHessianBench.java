package dev.curvlab.bench;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.operator.HessianOperator;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The dense Hessian {@code [N, N]} of an MLP's mean loss,
 * {@code FullHessian.compute(new HessianOperator(model, loss, data, theta, 0), options.method(m))},
 * one full matrix per operation (the operator is built in setup; the matrix is freed after use).
 *
 * <p>Each matrix takes seconds, so iterations are few (each is at least one matrix): 1 warm-up and
 * 2 measured by default, 5 and 5 for structured (its Java gathers need the JIT warm), 1 and 1 for rowloop, 0 and 2 for large.
 *
 * <ul>
 * <li>{@link #structured} and {@link #blocked} (forward-over-reverse, default block size) on
 *     small (10-32-32-1 tanh mse, batch 128, N=1441) and medium (20-64-64-3 tanh ce, batch 256, N=5699).
 *     PyTorch: {@code torch.autograd.functional.hessian(f, theta, vectorize=True)}, 1.0 s / 14.6 s.</li>
 * <li>{@link #rowloop}: the seed's method, one Hessian-vector product per parameter, small only.
 *     PyTorch: the seed's {@code get_full_hessian} loop of {@code autograd.grad}, 1.06 s.</li>
 * <li>{@link #large}: structured only, 50-128-128-10 tanh ce, batch 512, N=24,330 (the matrix is
 *     4.7 GB; needs about 8 GB of free memory). PyTorch: not run (its dense Hessian of medium already takes 14 s).</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0", "-Xmx8g",
        "-Dcurvlab.log.level=WARN"})
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 2, time = 1)
public class FullHessianBench {

    /** Operator of the small or medium problem. */
    @State(Scope.Benchmark)
    public static class Mlp {
        @Param({"small", "medium"})
        public String problem;

        HessianOperator operator;

        @Setup(Level.Trial)
        public void setup() {
            operator = operator(Problems.named(problem));
        }
    }

    /** Operator of the small problem only (for the seed's loop, which would take minutes on medium). */
    @State(Scope.Benchmark)
    public static class SmallMlp {
        @Param({"small"})
        public String problem;

        HessianOperator operator;

        @Setup(Level.Trial)
        public void setup() {
            operator = operator(Problems.named(problem));
        }
    }

    /** Operator of the large problem. */
    @State(Scope.Benchmark)
    public static class LargeMlp {
        HessianOperator operator;

        @Setup(Level.Trial)
        public void setup() {
            operator = operator(Problems.LARGE);
        }
    }

    static HessianOperator operator(Problems.Mlp problem) {
        Problems.Instance p = problem.build();
        return new HessianOperator(p.model(), problem.loss(), p.data(), p.theta(), 0);
    }

    /** Structured (per-sample Kronecker) dense Hessian of small / medium. */
    @Benchmark
    @Warmup(iterations = 5, time = 1)
    @Measurement(iterations = 5, time = 1)
    public void structured(Mlp s, Blackhole bh) throws IOException {
        consume(FullHessian.compute(s.operator, FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)), bh);
    }

    /** Blocked forward-over-reverse dense Hessian (default block size) of small / medium. */
    @Benchmark
    public void blocked(Mlp s, Blackhole bh) throws IOException {
        consume(FullHessian.compute(s.operator, FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED)), bh);
    }

    /** The seed's per-parameter loop (ROWLOOP: one HVP per parameter), small only; about 10 s per matrix. */
    @Benchmark
    @Warmup(iterations = 1, time = 1)
    @Measurement(iterations = 1, time = 1)
    public void rowloop(SmallMlp s, Blackhole bh) throws IOException {
        consume(FullHessian.compute(s.operator, FullHessian.Options.defaults().withMethod(HessianMethod.ROWLOOP)), bh);
    }

    /** Structured dense Hessian at N = 24,330; about 30 s per matrix, so no warm-up iteration (JIT time is negligible here). */
    @Benchmark
    @Warmup(iterations = 0)
    @Measurement(iterations = 2, time = 1)
    public void large(LargeMlp s, Blackhole bh) throws IOException {
        consume(FullHessian.compute(s.operator, FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)), bh);
    }

    static void consume(FullHessian.Result r, Blackhole bh) {
        bh.consume(r.asymmetry());
        bh.consume(r.matrix());
        Problems.release(r.matrix());
    }
}
