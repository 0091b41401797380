//===- DeltaShapesTest.cpp - shape and size arithmetic --------------------===//

#include "dialect/DeltaShapes.h"

#include <gtest/gtest.h>

using namespace deltac::delta;

TEST(DeltaShapes, DynamicDimsAreCompatibleWithAnything) {
  EXPECT_TRUE(dimsCompatible(4, 4));
  EXPECT_TRUE(dimsCompatible(kDynamicDim, 7));
  EXPECT_TRUE(dimsCompatible(7, kDynamicDim));
  EXPECT_FALSE(dimsCompatible(4, 5));
}

TEST(DeltaShapes, NumElementsRejectsDynamicAndOverflow) {
  EXPECT_EQ(numElements({16, 128, 128}), 262144);
  EXPECT_EQ(numElements({}), 1);
  EXPECT_EQ(numElements({3, kDynamicDim}), std::nullopt);
  EXPECT_EQ(numElements({INT64_MAX / 2, 3}), std::nullopt);
}

// Spec §2.4 item 6 and §5.4 item 6: Hugging Face pairs value head h with key head h / r; GGUF tiles.
TEST(DeltaShapes, KeyHeadForValueHeadGroupedAndTiled) {
  // 4B/9B: nk = 16, nv = 32, r = 2.
  EXPECT_EQ(keyHeadForValueHead(0, 16, 32, /*tiled=*/false), 0);
  EXPECT_EQ(keyHeadForValueHead(1, 16, 32, /*tiled=*/false), 0);
  EXPECT_EQ(keyHeadForValueHead(2, 16, 32, /*tiled=*/false), 1);
  EXPECT_EQ(keyHeadForValueHead(31, 16, 32, /*tiled=*/false), 15);
  EXPECT_EQ(keyHeadForValueHead(1, 16, 32, /*tiled=*/true), 1);
  EXPECT_EQ(keyHeadForValueHead(16, 16, 32, /*tiled=*/true), 0);
  EXPECT_EQ(keyHeadForValueHead(17, 16, 32, /*tiled=*/true), 1);
  // r = 1 (0.8B/2B): both mappings are the identity.
  for (int64_t h = 0; h < 16; ++h) {
    EXPECT_EQ(keyHeadForValueHead(h, 16, 16, false), h);
    EXPECT_EQ(keyHeadForValueHead(h, 16, 16, true), h);
  }
}

// Every value head under the two mappings reads each key head exactly r times.
TEST(DeltaShapes, HeadMappingsAreBalanced) {
  for (bool tiled : {false, true}) {
    std::vector<int> uses(4, 0);
    for (int64_t h = 0; h < 12; ++h)
      ++uses[keyHeadForValueHead(h, 4, 12, tiled)];
    for (int u : uses)
      EXPECT_EQ(u, 3);
  }
}

TEST(DeltaShapes, GroupsPerRow) {
  EXPECT_EQ(groupsPerRow(1024, 32), 32);
  EXPECT_EQ(groupsPerRow(1024, 0), 1);
  EXPECT_EQ(groupsPerRow(1000, 64), std::nullopt);
  EXPECT_EQ(groupsPerRow(1024, -1), std::nullopt);
}

// Spec §7 sizes: the 0.8B in_proj_qkv [6144, 1024] as GGUF Q4_0 is 6144 * 32 blocks * 18 bytes.
TEST(DeltaShapes, QuantizedStorageBytesMatchesGgufBlocks) {
  EXPECT_EQ(quantizedStorageBytes({6144, 1024}, 4, 32, 2, 0), 6144 * 32 * 18);
  // Q8_0: 34 bytes per block of 32.
  EXPECT_EQ(quantizedStorageBytes({6144, 1024}, 8, 32, 2, 0), 6144 * 32 * 34);
  // Q4_1: scale and min, 20 bytes per block.
  EXPECT_EQ(quantizedStorageBytes({6144, 1024}, 4, 32, 2, 2), 6144 * 32 * 20);
  // Per-channel int8 with f32 scales: one scale per row.
  EXPECT_EQ(quantizedStorageBytes({3584, 1024}, 8, 0, 4, 0), 3584 * (1024 + 4));
  // Expert stacks count every matrix.
  EXPECT_EQ(quantizedStorageBytes({256, 512, 2048}, 4, 64, 2, 0),
            256LL * 512 * (1024 + 32 * 2));
}

TEST(DeltaShapes, QuantizedStorageBytesRejectsBadShapes) {
  EXPECT_EQ(quantizedStorageBytes({1024}, 4, 32, 2, 0), std::nullopt);
  EXPECT_EQ(quantizedStorageBytes({16, 100}, 4, 32, 2, 0), std::nullopt);
  EXPECT_EQ(quantizedStorageBytes({kDynamicDim, 64}, 4, 32, 2, 0), std::nullopt);
}

TEST(DeltaShapes, MropeSections) {
  EXPECT_TRUE(mropeSectionsFit({11, 11, 10}, 64));
  EXPECT_FALSE(mropeSectionsFit({11, 11, 11}, 64));
  EXPECT_FALSE(mropeSectionsFit({-1, 23, 10}, 64));
  EXPECT_FALSE(mropeSectionsFit({11, 11, 10}, 65));
}
