//===- ObjectEmitter.cpp - LLVM-dialect program to LLVM IR and objects ----===//

#include "codegen/ObjectEmitter.h"

#include "import/FileIO.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

namespace deltac {

static llvm::Expected<std::unique_ptr<llvm::TargetMachine>> makeTargetMachine(const TargetInfo &t) {
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  std::string message;
  llvm::Triple triple(t.triple);
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, message);
  if (!target)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "target " + t.name + ": " + message);
  llvm::TargetOptions options;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, t.cpu, t.features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Default));
}

llvm::Expected<std::unique_ptr<llvm::Module>>
translateProgram(mlir::ModuleOp program, const TargetInfo &target, llvm::LLVMContext &context) {
  mlir::registerBuiltinDialectTranslation(*program.getContext());
  mlir::registerLLVMDialectTranslation(*program.getContext());
  std::unique_ptr<llvm::Module> module = mlir::translateModuleToLLVMIR(program, context, "program");
  if (!module)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: the program does not translate to LLVM IR");
  auto machine = makeTargetMachine(target);
  if (!machine)
    return machine.takeError();
  module->setTargetTriple((*machine)->getTargetTriple());
  module->setDataLayout((*machine)->createDataLayout());
  return module;
}

llvm::Error emitObject(llvm::Module &module, const TargetInfo &target, llvm::StringRef path) {
  auto machine = makeTargetMachine(target);
  if (!machine)
    return machine.takeError();
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager passes;
  if ((*machine)->addPassesToEmitFile(passes, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "target " + target.name + " cannot emit object files");
  passes.run(module);
  return writeFileAtomically(path, buffer.str());
}

} // namespace deltac
