# expect: clean
"""The 60-minute-blitz CIFAR-10 CNN (conv-pool-conv-pool-fc-fc-fc, SGD with momentum 0.9, batch 8) on random 3x32x32 tensors with a class-dependent pattern, running_loss prints, then test accuracy and per-class accuracy under no_grad."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

# random "images" with a class-dependent colour/texture so there is something to learn
n = 640
labels = torch.randint(0, 10, (n,))
prototypes = torch.randn(10, 3, 32, 32) * 2.0
images = prototypes[labels] + torch.randn(n, 3, 32, 32)
trainloader = DataLoader(TensorDataset(images[:512], labels[:512]), batch_size=8, shuffle=True)
testloader = DataLoader(TensorDataset(images[512:], labels[512:]), batch_size=64)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.003, momentum=0.9)

for epoch in range(2):  # loop over the dataset multiple times
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, targets = data

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()

        # print statistics
        running_loss += loss.item()
        if i % 16 == 15:
            print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 16:.3f}")
            running_loss = 0.0

print("Finished Training")

correct = 0
total = 0
with torch.no_grad():
    for images_b, labels_b in testloader:
        outputs = net(images_b)
        _, predicted = torch.max(outputs.data, 1)
        total += labels_b.size(0)
        correct += (predicted == labels_b).sum().item()
print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")

# prepare to count predictions for each class
correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}
with torch.no_grad():
    for images_b, labels_b in testloader:
        _, predictions = torch.max(net(images_b), 1)
        for label, prediction in zip(labels_b, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1
for classname, correct_count in correct_pred.items():
    accuracy = 100 * float(correct_count) / max(1, total_pred[classname])
    print(f"Accuracy for class: {classname:5s} is {accuracy:.1f} %")
