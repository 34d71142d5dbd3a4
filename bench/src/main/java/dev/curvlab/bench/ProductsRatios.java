package dev.curvlab.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The {@link ProductsBench} operations measured interleaved (round-robin, one call of each per
 * round, median per operation), so that ratios between engines hold on a busy machine where
 * consecutive JMH runs see different loads. Prints one line per operation: median and ratio to the
 * layer engine's gradient.
 * {@code java -cp bench/target/curvlab-bench.jar dev.curvlab.bench.ProductsRatios [problem] [seconds] [operations containing]}.
 */
public final class ProductsRatios {
    private ProductsRatios() {
    }

    interface Op {
        void run(Blackhole bh);
    }

    public static void main(String[] args) {
        String[] problems = args.length > 0 ? new String[] {args[0]} : new String[] {"small", "medium"};
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 20;
        Blackhole bh = new Blackhole("Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        for (String problem : problems) {
            ProductsBench b = new ProductsBench();
            b.problem = problem;
            b.setup();
            if (Integer.getInteger("blas.threads", 0) > 0) {
                dev.curvlab.core.NativeSettings.threads(Integer.getInteger("blas.threads"), 1);
            }
            Map<String, Op> ops = new LinkedHashMap<>();
            ops.put("gradient layers", b::gradientLayers);
            ops.put("gradient generic", b::gradientGeneric);
            ops.put("gradient dl4j", b::gradientDl4j);
            ops.put("hvp layers (same point)", b::hvpLayers);
            ops.put("hvp layers (new point)", b::hvpLayersNewPoint);
            ops.put("hvp generic", b::hvpGeneric);
            ops.put("hvp16 layers (same point)", b::hvp16Layers);
            ops.put("hvp16 layers (new point)", b::hvp16LayersNewPoint);
            ops.put("hvp16 generic", b::hvp16Generic);
            ops.put("ggnvp layers (same point)", b::ggnvpLayers);
            ops.put("ggnvp layers (new point)", b::ggnvpLayersNewPoint);
            ops.put("ggnvp generic", b::ggnvpGeneric);
            if (args.length > 2) {
                ops.keySet().removeIf(k -> !k.contains(args[2]) && !k.equals("gradient layers"));
            }
            for (Op op : ops.values()) {
                long warm = System.nanoTime() + (long) (seconds / 4 / ops.size() * 1e9);
                for (int i = 0; i < 5 || System.nanoTime() < warm; i++) {
                    op.run(bh);
                }
            }
            Map<String, List<Double>> times = new LinkedHashMap<>();
            ops.keySet().forEach(k -> times.put(k, new ArrayList<>()));
            long end = System.nanoTime() + (long) (seconds * 0.75e9);
            int round = 0;
            while (System.nanoTime() < end || round < 20) {
                for (Map.Entry<String, Op> e : ops.entrySet()) {
                    long t0 = System.nanoTime();
                    e.getValue().run(bh);
                    times.get(e.getKey()).add((System.nanoTime() - t0) / 1e3);
                }
                round++;
            }
            double base = median(times.get("gradient layers"), round);
            System.out.printf(Locale.ROOT, "%s (each op warmed up alone, then %d interleaved rounds; medians of the second half)%n", problem, round);
            for (Map.Entry<String, List<Double>> e : times.entrySet()) {
                double m = median(e.getValue(), round);
                System.out.printf(Locale.ROOT, "  %-28s %10.1f us   %6.2fx layer gradient%n", e.getKey(), m, m / base);
            }
        }
        System.exit(0);
    }

    private static double median(List<Double> all, int rounds) {
        double[] v = all.subList(rounds / 2, all.size()).stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v[v.length / 2];
    }
}
