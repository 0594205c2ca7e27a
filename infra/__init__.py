"""Infrastructure: the CloudFormation template and the code that deploys it into moto."""
