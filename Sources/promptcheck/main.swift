import PromptCheck
print("stub")
