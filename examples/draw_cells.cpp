// draw_cells: the cells of a genotype as Graphviz drawings.
//
// Writes `<out>/<cell>.dot` for each cell of DARTS V2 (or of the genotype given as DARTS
// text), renders `<out>/<cell>.svg` with Graphviz's `dot` when it is installed, and prints
// the normal cell's DOT.
//
//   draw_cells [out-folder] ["Genotype(normal=[...], ...)"]
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include <nas/nas.hpp>

int main(int argc, char** argv) {
  try {
    const std::filesystem::path out = argc > 1 ? argv[1] : "cells";
    const auto genotype =
        argc > 2 ? nas::parse_darts<nas::spaces::darts>(argv[2]) : nas::genotypes::darts_v2;
    std::filesystem::create_directories(out);
    for (const auto& [cell, dot] : nas::cell_dots(genotype)) {
      const auto file = out / (cell + ".dot");
      std::ofstream(file) << dot;
      const bool drawn = nas::render_dot(file, out / (cell + ".svg"));
      std::fprintf(stderr, "%s%s\n", file.string().c_str(),
                   drawn ? " and .svg" : " (install graphviz for the .svg)");
    }
    std::printf("%s", nas::to_dot(genotype, "normal").c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "draw_cells: %s\n", e.what());
    return 1;
  }
  return 0;
}
